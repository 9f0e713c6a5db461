"""Failures where the user is: a failed generation or import shows its reason on its page with
Retry (which queues it again), a budget refusal offers "Raise budget…", a setting names
"Open Settings…", and a waiting job says what it waits for."""
from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from studio.engine.core import Studio
from studio.engine.db.models import Influencer, Job
from studio.engine.errors import InvalidInput
from studio.engine.jobs.status import JobStatus
from studio.engine.llm.budget import BudgetExceeded, set_budget
from studio.engine.llm.reservations import Intent, reserve
from studio.engine.media.thumbnails import ThumbnailPayload
from studio.ui.context import StudioContext
from studio.ui.errors import window_message
from studio.ui.main_window import MainWindow
from studio.ui.pages.datasets import DatasetsPage
from studio.ui.pages.generate import GeneratePage
from studio.ui.pages.settings import SettingsPage
from studio.ui.pages.video import VideoPage
from studio.ui.widgets.failure_banner import FailureBanner
from studio.ui.widgets.spend_dialog import SpendDialog
from tests.conftest import run_next_task
from tests.engine.media.conftest import make_clip
from tests.fakes.comfyui_server import FakeComfyUI
from tests.ui import datasets_page_helpers as shared
from tests.ui.datasets_page_helpers import run_queued_jobs
from tests.ui.helpers import make_images, open_page, run_next

dataset, drain_loaders = shared.dataset, shared.drain_loaders  # fixtures, found by name


@pytest.fixture
def generate_page(qtbot, context: StudioContext, fake: FakeComfyUI, mira: Influencer) -> GeneratePage:
    page = open_page(qtbot, context)
    qtbot.waitUntil(lambda: len(page.form.options("sampler")) > 10 and page.influencer_box.count() == 2)
    return page


@pytest.fixture
def window(qtbot, context: StudioContext) -> Iterator[MainWindow]:
    win = MainWindow(context)
    qtbot.addWidget(win)
    win.show()
    yield win


def submit(qtbot, page: GeneratePage) -> list[uuid.UUID]:
    with qtbot.waitSignal(page.jobs_submitted, timeout=10_000) as submitted:
        qtbot.mouseClick(page.generate_button, Qt.MouseButton.LeftButton)
    return list(submitted.args[0])


def test_a_failed_generation_shows_why_and_retry_runs_it_again(qtbot, studio: Studio, fake: FakeComfyUI,
                                                               generate_page: GeneratePage) -> None:
    page, banner = generate_page, generate_page.panel.banner
    fake.script(fail_at="3")  # the sampler node fails inside ComfyUI
    [job_id] = submit(qtbot, page)
    run_next(studio)
    qtbot.waitUntil(banner.isVisible, timeout=10_000)
    job = studio.jobs.get(page.context.workspace_id, job_id)
    assert job.status == JobStatus.FAILED
    assert "Padding size" in banner.reason.text() and "`" not in banner.reason.text()
    assert banner.retry_button.isVisible() and banner.retry_button.isEnabled()

    fake.script()  # the next attempt goes through
    with qtbot.waitSignal(banner.retried, timeout=10_000) as retried:
        qtbot.mouseClick(banner.retry_button, Qt.MouseButton.LeftButton)
    assert retried.args[0] == [job_id] and not banner.isVisible()
    assert studio.jobs.get(page.context.workspace_id, job_id).status == JobStatus.PENDING
    run_next(studio)
    qtbot.waitUntil(lambda: page.results.rowCount() == 1, timeout=10_000)
    assert page.panel.stage.text().startswith("Done") and not banner.isVisible()


def test_a_waiting_job_says_no_worker_serves_its_queue(qtbot, studio: Studio,
                                                      generate_page: GeneratePage) -> None:
    submit(qtbot, generate_page)  # no worker runs in the tests: it stays pending
    step = generate_page.panel.step
    qtbot.waitUntil(lambda: "none is serving it" in step.text(), timeout=10_000)
    assert "'generation'" in step.text() and "Queue page" in step.text()
    assert "waiting in the queue" in generate_page.panel.stage.text()


def test_a_failed_import_shows_on_datasets_and_retry_imports(qtbot, tmp_path: Path, studio: Studio,
                                                             context: StudioContext, dataset) -> None:
    page = DatasetsPage(context)
    qtbot.addWidget(page)
    page.resize(1100, 700)
    page.show()
    qtbot.waitUntil(lambda: page.dataset is not None and page.dataset.id == dataset.id)
    [picture] = make_images(tmp_path / "drop", 1, size=96)
    kept = picture.read_bytes()
    page.jobs.import_paths([picture])
    qtbot.waitUntil(lambda: page.jobs.followed is not None, timeout=10_000)
    title = page.import_panel.title  # no worker runs yet: the panel says why the import waits
    qtbot.waitUntil(lambda: "queue 'general'" in title.text() and "none is serving it" in title.text(),
                    timeout=10_000)
    picture.unlink()  # gone before the worker reads it: nothing can be imported
    assert run_queued_jobs(studio) == 1
    banner = page.import_panel.banner
    qtbot.waitUntil(banner.isVisible, timeout=10_000)
    assert banner.reason.text() and banner.retry_button.isVisible()
    assert "failed" in page.import_panel.title.text()

    picture.write_bytes(kept)
    with qtbot.waitSignal(banner.retried, timeout=10_000):
        qtbot.mouseClick(banner.retry_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.jobs.followed is not None, timeout=10_000)
    qtbot.waitUntil(lambda: run_queued_jobs(studio) > 0, timeout=10_000)
    qtbot.waitUntil(lambda: "Import: 1 imported" in page.import_panel.counts.text(), timeout=10_000)
    assert not banner.isVisible()


def test_a_budget_refusal_offers_raise_budget_which_opens_the_budget(qtbot, studio: Studio,
                                                                    context: StudioContext,
                                                                    window: MainWindow) -> None:
    set_budget(studio.db, context.workspace_id, 0.0)  # nothing may be spent this month
    with pytest.raises(BudgetExceeded) as refused:
        reserve(studio.db, Intent(context.workspace_id, ("some/model",)), 0.05, wait_s=0)
    message = window_message(refused.value)
    assert "`" not in message.text and "budget is raised" in message.text
    banner = FailureBanner(window.pages["plans"], hub=context.jobs)
    banner.show_message(message)
    assert banner.action_button.text() == "Raise budget…" and not banner.retry_button.isVisible()
    qtbot.mouseClick(banner.action_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: any(isinstance(w, SpendDialog) and w.isVisible()
                                for w in QApplication.topLevelWidgets()), timeout=10_000)


def test_a_missing_model_setting_opens_settings_at_its_group(qtbot, window: MainWindow,
                                                            context: StudioContext) -> None:
    message = window_message(InvalidInput("No model chosen; set one with `settings set llm.model MODEL`."))
    assert message.text == "No model chosen; choose one in Settings, LLM."
    banner = FailureBanner(window.pages["datasets"], hub=context.jobs)
    banner.show_message(message)
    qtbot.mouseClick(banner.action_button, Qt.MouseButton.LeftButton)
    settings = window.pages["settings"]
    assert isinstance(settings, SettingsPage) and window.current_page_key() == "settings"
    assert settings.group_list.currentItem().text() == "LLM"


def test_a_failed_export_shows_why_and_retry_exports(qtbot, tmp_path: Path, ffmpeg: str,
                                                     context: StudioContext) -> None:
    page = VideoPage(context)
    qtbot.addWidget(page)
    short = make_clip(ffmpeg, tmp_path / "short.mp4", size="320x240", seconds=1.0)
    with qtbot.waitSignal(page.frame_shown, timeout=15_000):
        page.open_clip(short)
    dialog = page.open_export_dialog()
    qtbot.addWidget(dialog)
    blocker = tmp_path / "out"
    dialog.folder.setText(str(blocker))
    dialog.choose(["tiktok"])
    dialog.loudness.setChecked(False)
    with qtbot.waitSignal(dialog.export_started, timeout=10_000):
        dialog.export_button.click()
    shutil.rmtree(blocker, ignore_errors=True)
    blocker.write_text("a file where the folder should be", encoding="utf-8")  # after the checks
    run_next_task(context.studio, "video")
    qtbot.waitUntil(dialog.banner.isVisible, timeout=30_000)
    assert dialog.banner.reason.text() and dialog.banner.retry_button.isVisible()

    blocker.unlink()
    with qtbot.waitSignal(dialog.banner.retried, timeout=10_000):
        qtbot.mouseClick(dialog.banner.retry_button, Qt.MouseButton.LeftButton)
    run_next_task(context.studio, "video")
    with qtbot.waitSignal(dialog.all_finished, timeout=30_000) as finished:
        pass
    assert [path.name for path in finished.args[0]] == ["short-tiktok.mp4"]
    assert not dialog.banner.isVisible() and dialog.status.text().startswith("Saved short-tiktok.mp4")


def test_a_failed_video_shows_why_on_the_video_page_and_retry_queues_it(qtbot, studio: Studio,
                                                                        context: StudioContext) -> None:
    page = VideoPage(context)
    qtbot.addWidget(page)
    page.show()
    box = page.make_box
    job = studio.jobs.submit(context.workspace_id, "make-thumbnails",
                             ThumbnailPayload(files=(Path("/nowhere.png"),)), title="Video of mira")
    with studio.db.session() as session:  # as the runner leaves a job that broke inside ComfyUI
        row = session.get(Job, job.id)
        assert row is not None
        row.status, row.error = JobStatus.FAILED, "Unexpected error: KeyError: 'frames'"
    box._on_video_queued(job.id)
    qtbot.waitUntil(box.banner.isVisible, timeout=10_000)
    assert box.banner.reason.text() == "Something went wrong (KeyError: 'frames'). Details are in the log folder."
    assert box.banner.action_button.text() == "Show log" and box.make_button.isEnabled()
    with qtbot.waitSignal(box.banner.retried, timeout=10_000):
        qtbot.mouseClick(box.banner.retry_button, Qt.MouseButton.LeftButton)
    assert studio.jobs.get(context.workspace_id, job.id).status == JobStatus.PENDING
    assert not box.make_button.isEnabled() and box.follower.job_id == job.id
