"""Sync fixtures, from helpers.py (tests/ui/conftest.py gives them to the sync dialog tests)."""
from __future__ import annotations

from tests.engine.sync.helpers import sync_target, two_studios  # noqa: F401 - fixtures for this folder's tests
