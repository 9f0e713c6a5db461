"""The Training page with real widgets, the real runner and the fake sd-scripts."""
from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from studio.engine.jobs.status import JobStatus
from studio.engine.training.results import checkpoints_of
from studio.ui.context import StudioContext
from studio.ui.pages.training import TrainingPage
from tests.conftest import run_cli
from tests.engine.training.helpers import FAKE_SD_SCRIPTS, Setup


@pytest.fixture
def page(qtbot: QtBot, context: StudioContext, setup: Setup) -> Iterator[TrainingPage]:
    widget = TrainingPage(context)
    qtbot.addWidget(widget)
    widget.resize(1280, 860)
    widget.show()  # a hidden page reads when it is shown
    widget.form.sd_scripts.setText(str(FAKE_SD_SCRIPTS))
    qtbot.waitUntil(lambda: widget.form.dataset_box.count() == 1, timeout=10_000)
    widget.form.preset_box.setCurrentIndex(widget.form.preset_box.findData("sd15-fast-test"))
    for name, value in (("base_model", str(setup.base_model)), ("max_train_steps", "30"),
                        ("save_every_n_steps", "10"), ("sample_every_n_steps", "10")):
        widget.form.set_value(name, value)
    widget.form.changed.emit()
    qtbot.waitUntil(lambda: "steps" in widget.form.estimate.text(), timeout=10_000)
    yield widget


def start(qtbot: QtBot, page: TrainingPage) -> uuid.UUID:
    with qtbot.waitSignal(page.training_started, timeout=10_000) as started:
        page.form.start_button.click()
    return started.args[0]


def run_in_thread(setup: Setup) -> threading.Thread:
    thread = threading.Thread(target=setup.run_next, daemon=True)
    thread.start()
    return thread


def test_the_form_shows_the_plan_and_start_queues_a_training(qtbot: QtBot, page: TrainingPage,
                                                             setup: Setup) -> None:
    assert "30 steps" in page.form.estimate.text() and "mia-main-v1" in page.form.estimate.text()
    page.form.set_value("resolution", "500")
    page.form.changed.emit()
    qtbot.waitUntil(lambda: "not divisible by 64" in page.form.findings.text(), timeout=10_000)
    assert not page.form.start_button.isEnabled()
    page.form.set_value("resolution", "512")
    page.form.changed.emit()
    qtbot.waitUntil(page.form.start_button.isEnabled, timeout=10_000)
    job_id = start(qtbot, page)
    job = setup.job(job_id)
    assert job.status == JobStatus.PENDING and job.payload["config"]["max_train_steps"] == 30
    qtbot.waitUntil(lambda: page.monitor.queue.count() == 1 and page.monitor.selected is not None,
                    timeout=10_000)
    assert "pending" in page.monitor.queue.item(0).text()
    # No worker runs in this test: the headline says what the training waits for.
    qtbot.waitUntil(lambda: "none is serving it" in page.monitor.headline.text(), timeout=10_000)
    assert "waiting: " in page.monitor.headline.text()


def test_the_chart_samples_and_checkpoints_update_live(qtbot: QtBot, page: TrainingPage, setup: Setup,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKE_SD_SCRIPTS_STEP_S", "0.08")
    job_id = start(qtbot, page)
    runner = run_in_thread(setup)
    qtbot.waitUntil(lambda: setup.job(job_id).status == JobStatus.PROCESSING
                    and page.monitor.chart.point_count() >= 3, timeout=20_000)
    seen_while_running = page.monitor.chart.point_count()
    assert setup.job(job_id).status == JobStatus.PROCESSING and seen_while_running < 30
    runner.join(timeout=30)
    qtbot.waitUntil(lambda: page.monitor.chart.point_count() >= 29
                    and page.monitor.checkpoints.topLevelItemCount() == 4  # steps 10, 20, 30 and final
                    and page.monitor.samples.count() == 3, timeout=10_000)
    assert page.monitor.chart.point_count() > seen_while_running
    assert page.monitor.chart.smooth.count() == page.monitor.chart.raw.count()
    assert "model saved." in page.monitor.log.toPlainText()
    assert page.monitor.progress.value() == 1000
    page.monitor.tabs.setCurrentIndex(1)
    page.monitor.checkpoints.topLevelItem(2).setSelected(True)


def test_cancel_stops_the_hanging_trainer(qtbot: QtBot, page: TrainingPage, setup: Setup,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKE_SD_SCRIPTS_HANG_AT", "5")
    job_id = start(qtbot, page)
    runner = run_in_thread(setup)
    qtbot.waitUntil(lambda: page.monitor.selected is not None and page.monitor.selected.status is JobStatus.PROCESSING
                    and page.monitor.cancel_button.isEnabled(), timeout=40_000)
    page.monitor.cancel_button.click()
    runner.join(timeout=30)
    assert setup.job(job_id).status == JobStatus.CANCELED
    qtbot.waitUntil(lambda: page.monitor.selected.status is JobStatus.CANCELED  # type: ignore[union-attr]
                    and page.monitor.resume_button.isEnabled(), timeout=10_000)


def test_resume_queues_a_failed_training_from_its_state(qtbot: QtBot, page: TrainingPage, setup: Setup,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKE_SD_SCRIPTS_FAIL", "oom")
    monkeypatch.setenv("FAKE_SD_SCRIPTS_FAIL_AT", "15")
    job_id = start(qtbot, page)
    setup.run_next()
    qtbot.waitUntil(lambda: page.monitor.selected is not None and page.monitor.selected.status is JobStatus.FAILED,
                    timeout=10_000)
    banner = page.monitor.banner  # the reason, with Retry beside Resume
    assert "CUDA ran out of GPU memory" in banner.reason.text() and banner.retry_button.isEnabled()
    assert "torch.OutOfMemoryError" in page.monitor.log.toPlainText()
    with qtbot.waitSignal(page.message_shown, timeout=10_000) as shown:
        page.monitor.resume_button.click()
    assert shown.args[0] == "Will resume from step 10."
    monkeypatch.delenv("FAKE_SD_SCRIPTS_FAIL")
    setup.run_next()
    qtbot.waitUntil(lambda: page.monitor.selected.status is JobStatus.COMPLETED, timeout=10_000)  # type: ignore[union-attr]
    assert setup.job(job_id).result["resumed_from"] == 10


def test_set_active_marks_the_chosen_checkpoint(qtbot: QtBot, page: TrainingPage, setup: Setup) -> None:
    job_id = start(qtbot, page)
    setup.run_next()
    qtbot.waitUntil(lambda: page.monitor.checkpoints.topLevelItemCount() == 4, timeout=10_000)
    page.monitor.checkpoints.topLevelItem(1).setSelected(True)
    assert "ss_network_dim=8" in page.monitor.metadata.text()
    with qtbot.waitSignal(page.message_shown, timeout=10_000):
        page.monitor.active_button.click()
    rows = checkpoints_of(setup.studio.db, setup.workspace_id, job_id=job_id)
    assert [bool(r.meta.get("active")) for r in rows] == [False, True, False, False]
    qtbot.waitUntil(lambda: page.monitor.checkpoints.topLevelItem(1).text(4) == "★", timeout=10_000)


def test_use_in_generate_asks_for_the_finished_trainings_lora_or_the_chosen_checkpoint(
        qtbot: QtBot, page: TrainingPage, setup: Setup) -> None:
    job_id = start(qtbot, page)
    assert not page.monitor.use_final_button.isEnabled()  # waiting: nothing to generate with yet
    setup.run_next()
    qtbot.waitUntil(lambda: page.monitor.checkpoints.topLevelItemCount() == 4
                    and page.monitor.use_final_button.isEnabled(), timeout=10_000)
    rows = checkpoints_of(setup.studio.db, setup.workspace_id, job_id=job_id)
    with qtbot.waitSignal(page.use_in_generate, timeout=5_000) as asked:
        page.monitor.use_final_button.click()
    assert asked.args[0] == rows[-1].id and rows[-1].meta["final"]  # no active one: the final
    assert not page.monitor.use_button.isEnabled()
    page.monitor.checkpoints.topLevelItem(1).setSelected(True)
    with qtbot.waitSignal(page.use_in_generate, timeout=5_000) as asked:
        page.monitor.use_button.click()
    assert asked.args[0] == rows[1].id


def test_a_dataset_made_by_the_command_line_appears_in_the_picker(qtbot: QtBot, page: TrainingPage,
                                                                  data_dir: Path) -> None:
    chosen = page.form.dataset_box.currentData()
    done = run_cli(data_dir, "dataset", "create", "--influencer", "Mia", "Beach day")
    assert done.returncode == 0, done.stderr
    # within 2 s (bench/live_state.py measures it); 5 s here for a loaded CI machine
    qtbot.waitUntil(lambda: page.form.dataset_box.findText("Mia · Beach day") >= 0, timeout=5000)
    assert page.form.dataset_box.currentData() == chosen  # the choice made stays


def test_a_training_run_by_a_worker_process_reaches_the_monitor(qtbot: QtBot, page: TrainingPage,
                                                                setup: Setup, worker) -> None:
    job_id = start(qtbot, page)
    qtbot.waitUntil(lambda: page.monitor.selected is not None and page.monitor.selected.id == job_id
                    and page.monitor.selected.status is JobStatus.COMPLETED, timeout=60_000)
    metrics = page.monitor.selected.root / "metrics.jsonl"
    lines = metrics.read_text().splitlines()
    assert '"step": 30' in lines[-1]  # the last step is recorded (steps read together share a point)
    qtbot.waitUntil(lambda: page.monitor.checkpoints.topLevelItemCount() == 4
                    and page.monitor.chart.point_count() == len(lines), timeout=10_000)
    assert page.monitor.progress.value() == 1000
    assert "✔" in page.monitor.queue.item(0).text() and "completed" in page.monitor.queue.item(0).text()
