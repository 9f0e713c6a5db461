"""UI fixtures: a context on a fresh profile; no message box ever blocks a test; a fake ComfyUI."""
from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest
from PySide6.QtWidgets import QApplication

from studio.engine.core import Studio
from studio.engine.db.models import Influencer
from studio.engine.influencers import Persona, create_influencer
from studio.ui import errors, tasks, thumbnails
from studio.ui.collector import collect_on_ui_thread
from studio.ui.context import StudioContext, WorkspaceRef
from studio.ui.session import StudioSession
from tests.engine.pipelines.helpers import pipeline_comfy  # noqa: F401 - a fixture for the Plans page
from tests.engine.sync.helpers import sync_target, two_studios  # noqa: F401 - fixtures for the sync dialog
from tests.engine.training.helpers import no_gpu_here, setup  # noqa: F401 - fixtures for the Training page
from tests.fakes.comfyui_server import FakeComfyUI
from tests.ui.helpers import CHECKPOINTS, LORAS


@pytest.fixture(autouse=True)
def collector_on_the_ui_thread(qapp: QApplication) -> Iterator[None]:
    """As the app does: Python's cycle collector never runs on a background task's thread. What
    a test leaves frozen is let go after it, so one test's cycles are not kept for the rest."""
    collect_on_ui_thread(qapp)
    yield
    gc.unfreeze()


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


@pytest.fixture(autouse=True)
def drain_loaders() -> Iterator[None]:
    """Thumbnail loads a test started end before the next test begins."""
    yield
    thumbnails.wait_until_idle()


@pytest.fixture
def fake(studio: Studio) -> Iterator[FakeComfyUI]:
    with FakeComfyUI(checkpoints=CHECKPOINTS, loras=LORAS) as server:
        studio.settings.comfyui.url = server.base_url
        yield server


@pytest.fixture
def mira(studio: Studio, context: StudioContext) -> Influencer:
    return create_influencer(studio, context.workspace_id, Persona(name="Mira", trigger_word="mira_v1"))


@pytest.fixture
def session(qtbot, studio: Studio) -> Iterator[StudioSession]:
    """A whole app session (window, worker supervisor, live state), closed without asking."""
    made = StudioSession(studio)
    yield made
    made.monitor.stop()
    made.context.stop()
    made.supervisor.stop()
    made.window.intercept_close = False
    made.window.close()
    made.window.deleteLater()
