"""How an image list can be sorted, apart from the queries: the command line offers these
without loading the database layer."""
from __future__ import annotations

SORTS = ("name", "date", "sharpness", "group", "identity", "identity-low")
