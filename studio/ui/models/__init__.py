"""Qt item models over engine records: they own the rows; widgets only show them."""
