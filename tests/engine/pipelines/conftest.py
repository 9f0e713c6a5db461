"""Pipeline fixtures: defined in helpers.py, which the CLI and UI conftest files import as well."""
from __future__ import annotations

from tests.engine.pipelines.helpers import pipeline_comfy  # noqa: F401 - a fixture for this folder's tests
