"""UI fixtures: a context on a fresh profile; no message box ever blocks a test."""
from __future__ import annotations

from collections.abc import Iterator

import pytest

from studio.engine.core import Studio
from studio.ui import errors, tasks
from studio.ui.context import StudioContext, WorkspaceRef


@pytest.fixture(autouse=True)
def shown_errors(monkeypatch: pytest.MonkeyPatch, qtbot: object) -> Iterator[list[str]]:
    """Every line show_error would put in a box; background tasks are drained after the test."""
    shown: list[str] = []
    monkeypatch.setattr(errors, "_present", lambda parent, text: shown.append(text))
    yield shown
    tasks.wait_until_idle(30_000)


@pytest.fixture
def context(studio: Studio) -> Iterator[StudioContext]:
    made = StudioContext(studio, WorkspaceRef.of(studio.workspace()))
    yield made
    made.stop()
