"""The real app (offscreen, in its own process) and the worker it starts: ended by a signal, the
app leaves a worker that finishes what runs and then exits; started again, it adopts that worker.

Jobs here are generations held by a fake ComfyUI until the test releases them, so "while a job
runs" does not depend on how fast this machine is."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from studio.engine.core import Studio
from studio.engine.db.models import Job, WorkerRecord
from studio.engine.db.types import utcnow
from studio.engine.jobs.status import JobStatus
from studio.engine.processes import pid_alive, start_token
from studio.engine.worker.app_watch import APP_STARTED
from studio.engine.worker.process import WorkerInfo, local_worker
from studio.ui.pages.queue import QueuePage
from studio.ui.session import StudioSession
from tests.conftest import ROOT, studio_command, wait_until
from tests.engine.comfyui.helpers import reload, submit
from tests.fakes.comfyui_server import FakeComfyUI

START_S = 90.0  # the app imports Qt, opens its window and starts its worker


@pytest.fixture
def notes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A stand-in notify-send first on PATH (inherited by the app and its worker): what the
    worker would have shown on the desktop is written to the returned file."""
    folder = tmp_path / "bin"
    folder.mkdir()
    log = tmp_path / "notifications.txt"
    script = folder / "notify-send"
    script.write_text(f"#!{sys.executable}\nimport sys\n"
                      f"open({str(log)!r}, 'a').write(' | '.join(sys.argv[1:]) + '\\n')\n")
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{folder}{os.pathsep}{os.environ['PATH']}")
    return log


@pytest.fixture
def held(studio: Studio) -> Iterator[FakeComfyUI]:
    """A ComfyUI whose first prompt runs until ``release()``; the worker reads its URL from the
    saved settings."""
    with FakeComfyUI() as server:
        studio.settings.comfyui.url = server.base_url
        studio.save_settings()
        server.script(hold_at="3")
        yield server


@pytest.fixture
def launch(studio: Studio, tmp_path: Path) -> Iterator[list[subprocess.Popen[bytes]]]:
    """Apps started by the test, killed at the end if still there (with their worker)."""
    apps: list[subprocess.Popen[bytes]] = []
    yield apps
    for app in apps:
        if app.poll() is None:
            app.kill()
            app.wait(timeout=10)
    info = local_worker(studio.paths)
    if info is not None and info.pid:
        os.kill(info.pid, signal.SIGKILL)


def start_app(studio: Studio, apps: list[subprocess.Popen[bytes]], log: Path) -> WorkerInfo:
    """Starts the real app offscreen; returns its worker, once that says it watches the app."""
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    env.pop("INFLUENCERAI_DATA_DIR", None)
    with log.open("ab") as out:
        app = subprocess.Popen(studio_command(studio.paths.data_dir), env=env, cwd=ROOT,
                               stdout=out, stderr=subprocess.STDOUT)
    apps.append(app)

    def watching() -> WorkerInfo | None:
        assert app.poll() is None, log.read_text(errors="replace")
        found = local_worker(studio.paths)
        return found if found is not None and found.app == start_token(app.pid) else None
    info = wait_until(watching, timeout=START_S, what="the app's worker")
    assert isinstance(info, WorkerInfo) and info.started_by == APP_STARTED
    return info


def end(app: subprocess.Popen[bytes], signum: int) -> None:
    app.send_signal(signum)
    app.wait(timeout=30)


def stopped_cleanly(studio: Studio, info: WorkerInfo) -> bool:
    with studio.db.session() as session:
        record = session.get(WorkerRecord, info.worker_id)
        return record is not None and record.stopped_at is not None


def running(studio: Studio, job: Job) -> bool:
    return reload(studio, job).stage == "KSampler"  # inside the held prompt


def beats_after(studio: Studio, info: WorkerInfo, moment: datetime, beats: int) -> None:
    later = moment + timedelta(seconds=beats * studio.settings.worker.heartbeat_interval_s)

    def beaten() -> bool:
        with studio.db.session() as session:
            record = session.get(WorkerRecord, info.worker_id)
            return record is not None and record.heartbeat_at.replace(tzinfo=UTC) > later
    wait_until(beaten, timeout=30, what="the worker to beat")


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGKILL], ids=["SIGTERM", "SIGKILL"])
def test_an_app_ended_by_a_signal_while_idle_takes_its_worker_along(
        studio: Studio, launch, notes: Path, tmp_path: Path, signum: int) -> None:
    info = start_app(studio, launch, tmp_path / "app.log")
    end(launch[0], signum)
    wait_until(lambda: not pid_alive(info.pid), timeout=60, what="the worker to exit")
    assert local_worker(studio.paths) is None and stopped_cleanly(studio, info)
    assert not notes.exists()  # nothing ran after the app went: nothing to announce


def test_an_app_killed_while_a_job_runs_leaves_the_worker_to_finish_it(
        studio: Studio, launch, notes: Path, held: FakeComfyUI, tmp_path: Path) -> None:
    info = start_app(studio, launch, tmp_path / "app.log")
    [job] = submit(studio)
    wait_until(lambda: running(studio, job), timeout=30, what="the job to run")
    end(launch[0], signal.SIGKILL)
    beats_after(studio, info, utcnow(), 4)  # an idle worker would have left after two
    assert pid_alive(info.pid) and reload(studio, job).status == JobStatus.PROCESSING
    held.release()
    wait_until(lambda: not pid_alive(info.pid), timeout=60, what="the worker to exit")
    assert reload(studio, job).status == JobStatus.COMPLETED and stopped_cleanly(studio, info)
    assert notes.read_text().splitlines() == [
        "--app-name=InfluencerAI Studio | InfluencerAI Studio | "
        "1 job(s) finished. The background worker has stopped."]


def test_an_app_started_again_adopts_its_busy_worker_and_shows_the_job(
        qtbot, studio: Studio, launch, held: FakeComfyUI, tmp_path: Path,
        session: StudioSession) -> None:
    first = start_app(studio, launch, tmp_path / "app.log")
    [job] = submit(studio)
    wait_until(lambda: running(studio, job), timeout=30, what="the job to run")
    end(launch[0], signal.SIGKILL)
    with qtbot.waitSignal(session.worker_settled, timeout=60_000) as settled:
        session.start()  # the app started again, here in the test's process
    assert settled.args == [True]
    adopted = local_worker(studio.paths)
    assert adopted is not None and adopted.pid == first.pid  # no second worker
    assert adopted.app == session.supervisor.app and session.supervisor.started_here
    with studio.db.session() as db:
        assert db.query(WorkerRecord).filter(WorkerRecord.stopped_at.is_(None)).count() == 1
    queue = session.window.pages["queue"]
    assert isinstance(queue, QueuePage)
    qtbot.waitUntil(lambda: (row := queue.model.job(job.id)) is not None
                    and row.status is JobStatus.PROCESSING, timeout=10_000)
    qtbot.waitUntil(lambda: "started by the app" in session.window.health.labels["worker"].toolTip(),
                    timeout=20_000)
    held.release()
    wait_until(lambda: reload(studio, job).status == JobStatus.COMPLETED, timeout=30,
               what="the job to complete")
    beats_after(studio, first, utcnow(), 4)  # it watches this app now, not the killed one
    assert pid_alive(first.pid)
    with qtbot.waitSignal(session.finished, timeout=30_000):
        session.window.close()  # nothing runs: quitting stops the adopted worker too
    assert local_worker(studio.paths) is None and stopped_cleanly(studio, first)
    wait_until(lambda: not pid_alive(first.pid), timeout=30, what="the worker process to end")

