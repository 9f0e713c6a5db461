"""Quitting the app: "Cancel jobs" cancels each job for good, with progress shown, and quitting
with nothing running is quick and leaves no worker behind.

The real session and main window (offscreen), the real worker it starts, the real question
answered by clicking its button, a real fake-ComfyUI job waiting for a GPU this test holds, and
a real worker started afterwards."""
from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from filelock import FileLock
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox, QProgressDialog

from studio.engine.core import Studio
from studio.engine.db.models import Job
from studio.engine.jobs.gpu import gpu_lock_path
from studio.engine.media.thumbnails import ThumbnailPayload
from studio.engine.worker.process import local_worker
from studio.ui.quitting import quit_question
from studio.ui.session import QuitChoice, StudioSession
from tests.conftest import ROOT, WorkerProcess, studio_command, wait_until
from tests.fakes.comfyui_server import FakeComfyUI
from tests.ui.helpers import make_images

START_MS = 30_000
GENERATE = ("generate", "image", "--template", "txt2img-sd15-lora", "--prompt", "mia, portrait",
            "--set", "checkpoint=sd15.safetensors", "--set", "lora_name=mia_v1.safetensors",
            "--set", "steps=3", "--no-wait")


def started(qtbot, session: StudioSession) -> StudioSession:
    with qtbot.waitSignal(session.worker_settled, timeout=START_MS) as settled:
        session.start()
    assert settled.args == [True]
    return session


class QuitAnswers:
    """Answers the quit question by clicking one of its real buttons, and notes what the
    progress dialog said meanwhile (a timer, since the question runs its own event loop)."""

    def __init__(self, button: str) -> None:
        self.button = button
        self.asked: list[str] = []
        self.progress: list[str] = []
        self.timer = QTimer()
        self.timer.setInterval(20)
        self.timer.timeout.connect(self._look)
        self.timer.start()

    def done(self) -> None:
        """Stops and frees the timer here, on the UI thread: left to the garbage collector (it
        sits in a reference cycle with this object), it could be freed on a worker thread."""
        self.timer.stop()
        self.timer.timeout.disconnect(self._look)
        self.timer.deleteLater()

    def _look(self) -> None:
        for widget in QApplication.topLevelWidgets():
            if isinstance(widget, QMessageBox) and widget.isVisible() and not self.asked:
                self.asked.append(widget.text())
                next(b for b in widget.buttons() if b.text() == self.button).click()
            if isinstance(widget, QProgressDialog) and widget.isVisible():
                text = widget.labelText()
                if not self.progress or self.progress[-1] != text:
                    self.progress.append(text)


def thumbnails(studio: Studio, files: list[Path], title: str) -> Job:
    return studio.jobs.submit(studio.workspace().id, "make-thumbnails",
                              ThumbnailPayload(files=tuple(files)), title=title)


def job_row(studio: Studio, job: Job) -> Job:
    return studio.jobs.get(job.workspace_id, job.id)


@pytest.fixture
def comfyui(studio: Studio) -> Iterator[FakeComfyUI]:
    with FakeComfyUI() as fake:
        studio.settings.comfyui.url = fake.base_url  # on this machine: its jobs need the GPU
        studio.settings.queue.general_workers = 1  # the batch runs, the jobs after it wait
        studio.save_settings()
        yield fake


def waiting_for_the_gpu(studio: Studio) -> Job:
    done = subprocess.run(studio_command(studio.paths.data_dir, *GENERATE), cwd=ROOT, text=True,
                          capture_output=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    [job] = [j for j in studio.jobs.list(studio.workspace().id) if j.type == "generate-image"]
    wait_until(lambda: job_row(studio, job).stage == "Waiting for the GPU", timeout=60,
               what="the image job to wait for the GPU this test holds")
    return job


def test_cancel_jobs_on_quit_cancels_each_for_good_and_a_new_worker_runs_none(
        qtbot, tmp_path: Path, studio: Studio, session: StudioSession, comfyui: FakeComfyUI,
        worker_factory: Callable[..., WorkerProcess]) -> None:
    gpu = FileLock(str(gpu_lock_path()), thread_local=False, is_singleton=False)
    gpu.acquire()  # another job holds this machine's GPU all along
    try:
        started(qtbot, session)
        image = waiting_for_the_gpu(studio)
        running = thumbnails(studio, make_images(tmp_path / "big", 24, size=1400), "Big batch")
        wait_until(lambda: job_row(studio, running).status == "processing", what="the batch to run")
        queued = [thumbnails(studio, make_images(tmp_path / f"q{n}", 2), f"Queued {n}") for n in range(3)]
        answers = QuitAnswers("Cancel jobs")
        with qtbot.waitSignal(session.finished, timeout=60_000):
            session.window.close()
        answers.done()
    finally:
        gpu.release()
    assert answers.asked == ["5 job(s) are waiting or running."]
    assert session.quit_choice is QuitChoice.CANCEL and answers.progress  # a silent wait: never
    assert answers.progress[0] == "Canceling 5 job(s)…" and answers.progress[-1] == "Stopping the worker…"
    jobs = [image, running, *queued]
    assert {job_row(studio, j).status for j in jobs} == {"canceled"}
    assert job_row(studio, image).message == "Canceled while waiting for the GPU."  # not settled later
    assert local_worker(studio.paths) is None and not session.window.isVisible()
    before = {j.id: job_row(studio, j).attempts for j in jobs}

    worker = worker_factory()  # the next launch's worker: what does it run?
    after = thumbnails(studio, make_images(tmp_path / "after", 1), "After the restart")
    wait_until(lambda: job_row(studio, after).status == "completed", timeout=60,
               what="the job queued after the restart (behind the old messages) to run")
    assert {job_row(studio, j).status for j in jobs} == {"canceled"}
    assert {j.id: job_row(studio, j).attempts for j in jobs} == before
    assert comfyui.requests("POST", "/prompt") == []  # the image job never reached ComfyUI
    assert worker.stop() == 0


def test_quitting_with_nothing_running_asks_nothing_and_leaves_no_worker(
        qtbot, studio: Studio, session: StudioSession) -> None:
    started(qtbot, session)
    wait_until(lambda: (found := local_worker(studio.paths)) is not None and found.worker_id,
               what="the worker to finish starting")
    answers = QuitAnswers("Stay open")
    with qtbot.waitSignal(session.finished, timeout=20_000):
        session.window.close()
    answers.done()
    assert answers.asked == [] and answers.progress == []
    assert local_worker(studio.paths) is None  # it let go of its lock before the app went


def test_the_quit_question_offers_three_answers(qtbot) -> None:
    box, choices = quit_question(2)
    qtbot.addWidget(box)
    assert box.text() == "2 job(s) are waiting or running."
    assert {b.text(): c for b, c in choices.items()} == {
        "Keep running in the background": QuitChoice.BACKGROUND, "Stay open": QuitChoice.WAIT,
        "Cancel jobs": QuitChoice.CANCEL}
    assert box.defaultButton().text() == "Keep running in the background"
