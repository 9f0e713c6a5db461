"""The app as a whole: its worker comes and goes with it, quitting asks about jobs, one window."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from PySide6.QtCore import QTimer

from studio.engine.core import Studio
from studio.engine.db.models import WorkerRecord
from studio.engine.media.thumbnails import ThumbnailPayload
from studio.engine.worker.process import EXIT_WHEN_IDLE_FILE, local_worker
from studio.ui.app import QUIT_AFTER_ENV, SWITCH_INTERVAL_S
from studio.ui.main_window import PAGES
from studio.ui.session import QuitChoice, StudioSession
from studio.ui.single_instance import SingleInstance
from tests.conftest import ROOT, studio_command, wait_until
from tests.ui.helpers import make_images

START_MS = 30_000


def started(qtbot, session: StudioSession) -> StudioSession:
    with qtbot.waitSignal(session.worker_settled, timeout=START_MS) as settled:
        session.start()
    assert settled.args == [True]
    return session


def busy_job(studio: Studio, tmp_path: Path):
    """Enough large pictures to keep the worker busy for a few seconds."""
    files = make_images(tmp_path / "big", 24, size=1400)
    return studio.jobs.submit(studio.workspace().id, "make-thumbnails",
                              ThumbnailPayload(files=tuple(map(Path, files))), title="Big batch")


def test_the_worker_comes_up_with_the_window_and_goes_on_close(qtbot, studio: Studio,
                                                               session: StudioSession) -> None:
    assert local_worker(studio.paths) is None
    started(qtbot, session)
    info = local_worker(studio.paths)
    assert info is not None and session.supervisor.started_here
    assert [session.window.sidebar.item(i).text() for i in range(8)] == [t for _, t in PAGES]
    assert session.window.isVisible()
    with qtbot.waitSignal(session.finished, timeout=20_000):
        session.window.close()
    assert local_worker(studio.paths) is None
    readers = [t for t in session.context.findChildren(QTimer) if not t.isSingleShot()]
    assert readers and not any(t.isActive() for t in readers)  # the window is gone: nothing reads
    assert not session.window.isVisible() and session.quit_choice is None


def test_quit_with_jobs_can_keep_them_running_in_the_background(qtbot, monkeypatch, tmp_path: Path,
                                                                studio: Studio,
                                                                session: StudioSession) -> None:
    started(qtbot, session)
    job = busy_job(studio, tmp_path)
    asked: list[int] = []
    monkeypatch.setattr(session, "ask_quit_choice",
                        lambda active: asked.append(active) or QuitChoice.BACKGROUND)
    with qtbot.waitSignal(session.finished, timeout=20_000):
        session.window.close()
    assert asked == [1]
    assert local_worker(studio.paths) is not None  # still working after the window has gone
    assert (studio.paths.run_dir / EXIT_WHEN_IDLE_FILE).exists()
    wait_until(lambda: local_worker(studio.paths) is None, timeout=90, what="the worker to finish")
    assert studio.jobs.get(job.workspace_id, job.id).status == "completed"


def test_quit_with_jobs_can_cancel_them(qtbot, monkeypatch, tmp_path: Path, studio: Studio,
                                        session: StudioSession) -> None:
    started(qtbot, session)
    job = busy_job(studio, tmp_path)
    monkeypatch.setattr(session, "ask_quit_choice", lambda active: QuitChoice.CANCEL)
    with qtbot.waitSignal(session.finished, timeout=30_000):
        session.window.close()
    assert studio.jobs.get(job.workspace_id, job.id).status == "canceled"
    assert local_worker(studio.paths) is None and studio.jobs.active_count() == 0


def test_quit_with_jobs_can_wait(qtbot, monkeypatch, studio: Studio, session: StudioSession) -> None:
    # No worker started: the job stays pending, so the question is certain to come.
    studio.jobs.submit(studio.workspace().id, "make-thumbnails", ThumbnailPayload(files=(Path("/x.png"),)))
    session.window.show()
    asked: list[int] = []
    monkeypatch.setattr(session, "ask_quit_choice",
                        lambda active: asked.append(active) or QuitChoice.WAIT)
    session.window.close()
    qtbot.waitUntil(lambda: asked == [1])
    assert session.window.isVisible() and session.quit_choice is None


def app_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", **extra)
    env.pop("INFLUENCERAI_DATA_DIR", None)
    return env


def test_run_app_starts_and_stops_its_worker(data_dir: Path) -> None:
    done = subprocess.run(studio_command(data_dir), env=app_env(**{QUIT_AFTER_ENV: "200"}), cwd=ROOT,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    checked = Studio.open(data_dir)
    try:
        assert local_worker(checked.paths) is None
        with checked.db.session() as session:
            workers = session.query(WorkerRecord).all()
        assert len(workers) == 1 and workers[0].stopped_at is not None  # it ran, then stopped
        assert (data_dir / "ui-state.ini").is_file()
    finally:
        checked.close()


def test_a_second_launch_brings_the_first_window_forward(qtbot, data_dir: Path) -> None:
    first = SingleInstance(data_dir)
    assert first.listen()
    try:
        with qtbot.waitSignal(first.activation_requested, timeout=60_000):
            second = subprocess.Popen(studio_command(data_dir), env=app_env(), cwd=ROOT,
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        out, err = second.communicate(timeout=60)
    finally:
        first.close()
    assert second.returncode == 0, err
    assert out.strip() == (f"InfluencerAI Studio is already open for {data_dir.resolve()}; "
                           "brought it to the front.")
    assert local_worker(Studio.open(data_dir).paths) is None  # the second launch started nothing


def test_the_application_runs_its_collector_and_a_short_switch_interval() -> None:
    """What keeps the window responsive while a thread computes (a fresh process: the tests'
    own application is not the app's)."""
    script = ("import sys\nfrom studio.ui.app import application\nfrom studio.ui.collector import UiThreadCollector\n"
              "app = application()\n"
              "print(sys.getswitchinterval(), app.findChild(UiThreadCollector, 'ui-thread-collector') is not None)")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60,
                          cwd=ROOT, env={**os.environ, "QT_QPA_PLATFORM": "offscreen"}, check=False)
    assert done.returncode == 0, done.stderr
    interval, collector = done.stdout.split()
    assert float(interval) == SWITCH_INTERVAL_S and collector == "True"
