"""Training fixtures, from helpers.py (tests/ui/conftest.py gives them to the Training page tests)."""
from __future__ import annotations

from tests.engine.training.helpers import no_gpu_here, setup  # noqa: F401 - fixtures for this folder's tests
