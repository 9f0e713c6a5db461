"""One page per area of the studio."""
