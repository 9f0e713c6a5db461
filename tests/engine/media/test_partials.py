"""Partial outputs carry their writer's pid and start time; a sweep removes only dead writers'."""
from __future__ import annotations

import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from studio.engine import processes
from studio.engine.media.partials import owner_token, partial_name, sweep, sweep_tree
from studio.engine.processes import start_token, token_running


def _dead_token() -> str:
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    token = start_token(gone.pid)
    gone.wait(timeout=30)
    return token


def test_a_partial_name_is_hidden_beside_the_target_and_names_this_process(tmp_path: Path) -> None:
    temp = partial_name(tmp_path / "clip 1.mp4")
    assert temp.parent == tmp_path and temp.name.startswith(".clip 1.partial-") and temp.suffix == ".mp4"
    assert owner_token(temp) == start_token() and token_running(start_token())


def test_sweep_removes_dead_writers_partials_only(tmp_path: Path) -> None:
    dead = tmp_path / "job1" / f".video.partial-{_dead_token()}.mp4"
    mine = tmp_path / "job2" / partial_name(tmp_path / "video.mp4").name
    finished = tmp_path / "job1" / "video.mp4"
    unrelated = tmp_path / "job1" / ".video.mp4.abc.tmp"
    for path in (dead, mine, finished, unrelated):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x")
    assert sweep(tmp_path / "job2") == []
    assert sweep_tree(tmp_path, 1) == [dead]
    assert not dead.exists() and mine.exists() and finished.exists() and unrelated.exists()


def test_a_token_still_names_its_process_after_the_wall_clock_is_stepped(monkeypatch) -> None:
    """NTP or a resumed virtual machine moves boot time as /proc tells it; tokens must not move."""
    token = start_token()
    stepped = processes._boot_time() + timedelta(minutes=7)
    monkeypatch.setattr(processes, "_boot_time", lambda: stepped)
    assert start_token() == token and token_running(token)
    assert not token_running(f"{token.partition('-')[0]}-{int(token.partition('-')[2]) + 1}")
