"""The record of who owns the supervised ComfyUI, with real processes standing in for both."""
from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from studio.engine.comfyui.handover import (
    RECORD_FILE,
    ComfyRecord,
    clear_record,
    read_record,
    write_record,
)
from studio.engine.comfyui.processes import ProcessStamp

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="no hand-over records on Windows")


def sleeper() -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])


@pytest.fixture
def live() -> Iterator[ProcessStamp]:
    proc = sleeper()
    stamp = ProcessStamp.of(proc.pid)
    assert stamp is not None
    yield stamp
    proc.kill()
    proc.wait()


@pytest.fixture
def gone() -> ProcessStamp:
    proc = sleeper()
    stamp = ProcessStamp.of(proc.pid)
    proc.kill()
    proc.wait()
    assert stamp is not None and not stamp.alive()
    return stamp


def record(comfyui: ProcessStamp, owner: ProcessStamp) -> ComfyRecord:
    return ComfyRecord(comfyui=comfyui, owner=owner, url="http://127.0.0.1:1", folder="/c",
                       started_at="2025-01-01T00:00:00")


def test_the_record_round_trips_and_a_broken_one_reads_as_none(tmp_path: Path, live: ProcessStamp) -> None:
    me = ProcessStamp.current()
    written = record(live, me)
    write_record(tmp_path / "run", written)
    assert read_record(tmp_path / "run") == written
    (tmp_path / "run" / RECORD_FILE).write_text("{\"comfyui\": ", encoding="utf-8")
    assert read_record(tmp_path / "run") is None
    assert read_record(tmp_path / "nowhere") is None


def test_who_may_claim_it(live: ProcessStamp, gone: ProcessStamp) -> None:
    me = ProcessStamp.current()
    assert record(live, me).claimable_by(me)  # handed to me
    assert record(live, gone).claimable_by(me)  # its owner has gone
    assert not record(live, live).claimable_by(me)  # its owner runs and is another process
    assert not record(gone, me).claimable_by(me)  # ComfyUI itself has gone


def test_clearing_leaves_another_comfyuis_record(tmp_path: Path, live: ProcessStamp) -> None:
    write_record(tmp_path, record(live, ProcessStamp.current()))
    clear_record(tmp_path, live.pid + 1)
    assert read_record(tmp_path) is not None
    clear_record(tmp_path, live.pid)
    assert read_record(tmp_path) is None


def test_a_stamp_tells_a_reused_pid_apart(live: ProcessStamp) -> None:
    assert live.alive() and ProcessStamp.of(live.pid) == live
    if live.started is not None:  # Linux: the start time is part of the identity
        assert not ProcessStamp(live.pid, str(int(live.started) + 1)).alive()
    assert ProcessStamp.of(0) is None
