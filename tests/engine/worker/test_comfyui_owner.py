"""Who stops the local ComfyUI: a process hands it to the worker or stops it, and a worker takes
over one whose owner has gone. Real worker processes and the stand-in ComfyUI main.py."""
from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from studio.engine.comfyui import supervisor as supervision
from studio.engine.comfyui.handover import read_record
from studio.engine.comfyui.processes import ProcessStamp
from studio.engine.core import Studio
from studio.engine.worker.comfyui_owner import release_local_comfyui, worker_stamp
from tests.conftest import WorkerProcess, wait_until
from tests.engine.comfyui.helpers import comfy_folder
from tests.servers import free_port

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="no hand-over records on Windows")


def use_local_comfyui(studio: Studio, root: Path) -> supervision.ComfySupervisor:
    studio.settings.comfyui.folder = str(comfy_folder(root))
    studio.settings.comfyui.port = free_port()
    studio.save_settings()  # the worker reads them from the file
    supervisor = supervision.supervisor_for(studio.settings, studio.paths.logs_dir)
    assert supervisor is not None
    return supervisor


def gone_process() -> ProcessStamp:
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    stamp = ProcessStamp.of(proc.pid)
    proc.kill()
    proc.wait()
    assert stamp is not None
    return stamp


def owner_pid(studio: Studio) -> int | None:
    record = read_record(studio.paths.run_dir)
    return record.owner.pid if record is not None else None


def test_without_a_worker_the_process_stops_its_comfyui(studio: Studio, tmp_path: Path) -> None:
    supervisor = use_local_comfyui(studio, tmp_path)
    try:
        supervisor.start(timeout_s=30)
        pid = supervisor.pid
        assert pid is not None and supervision.owns_any() and worker_stamp(studio.paths) is None
        release_local_comfyui(studio.paths)
        assert not supervision.owns_any()
        assert ProcessStamp.of(pid) is None and not supervisor.answers(timeout_s=0.5)
    finally:
        supervision.stop_all(grace_s=2)


def test_a_worker_takes_over_a_comfyui_whose_owner_died_and_stops_it(
        studio: Studio, tmp_path: Path, worker_factory: Callable[[], WorkerProcess]) -> None:
    supervisor = use_local_comfyui(studio, tmp_path)
    try:
        supervisor.start(timeout_s=30)
        comfyui = ProcessStamp.of(supervisor.pid or 0)
        assert comfyui is not None
        supervisor.release(gone_process())  # as if its owner had been killed: left running
        worker = worker_factory()
        wait_until(lambda: owner_pid(studio) == worker.proc.pid, what="the worker to take it over")
        record = read_record(studio.paths.run_dir)
        assert record is not None and record.comfyui == comfyui  # the same ComfyUI, not a second
        assert worker.stop() == 0
        assert not comfyui.alive() and not supervisor.answers(timeout_s=0.5)
        assert read_record(studio.paths.run_dir) is None
        assert "taken over by pid" in supervisor.log_file.read_text(encoding="utf-8")
    finally:
        supervision.stop_all(grace_s=2)
