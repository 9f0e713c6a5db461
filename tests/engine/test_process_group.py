"""A child started with ``tied_group`` dies when the process that started it is killed with -9."""
from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT, wait_until

PARENT = """
import subprocess, sys, threading
from studio.engine.process_group import tied_group

def run() -> None:
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"], **tied_group())
    print(child.pid, flush=True)
    child.wait()

thread = threading.Thread(target=run)  # as a job thread starts FFmpeg
thread.start()
thread.join()
"""


def running(pid: int) -> bool:
    """True while ``pid`` exists and is not a zombie (dead, waiting to be reaped)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rfind(")") + 2] != "Z"


def test_the_child_dies_with_its_parent() -> None:
    parent = subprocess.Popen([sys.executable, "-c", PARENT], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert parent.stdout is not None
        child = int(parent.stdout.readline())
        assert running(child)
        parent.send_signal(signal.SIGKILL)
        parent.wait(timeout=10)
        wait_until(lambda: not running(child), what="the child to die with its parent")
    finally:
        if parent.poll() is None:
            parent.kill()
