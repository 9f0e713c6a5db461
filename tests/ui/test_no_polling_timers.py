"""No page, dialog or widget polls jobs or data on its own: the hub and the change watcher do.

Every repeating timer in the window must say what it is for, and only the hub and the watcher
may read jobs or data; the others repaint or follow something that is not studio data."""
from __future__ import annotations

import re
from pathlib import Path

from PySide6.QtCore import QTimer
from pytestqt.qtbot import QtBot

from studio.ui.context import StudioContext
from studio.ui.health import HealthMonitor
from studio.ui.job_hub import TIMER_NAME as HUB
from studio.ui.live import TIMER_NAME as WATCHER
from studio.ui.main_window import MainWindow

ROOT = Path(__file__).resolve().parents[2]
# Repeating timers that read no jobs and no studio data.
NOT_POLLING = {
    "health",  # outside services: is ComfyUI up, does a worker answer
    "duration-tick",  # repaints a running job's duration; reads nothing
    "video-frame",  # the player's next frame
    "log-follow",  # the tail of a program's log file
    "garbage-collection",  # Python's cycle collector, run on the UI thread
}


def test_only_the_hub_and_the_watcher_poll(qtbot: QtBot, context: StudioContext) -> None:
    monitor = HealthMonitor(context.studio, context)
    window = MainWindow(context, monitor)
    qtbot.addWidget(window)
    timers = [t for owner in (window, context) for t in owner.findChildren(QTimer)]
    repeating = [t for t in timers if not t.isSingleShot()]
    names = sorted(t.objectName() for t in repeating)
    assert names.count(HUB) == 1 and names.count(WATCHER) == 1, names
    unexplained = [name for name in names if name not in NOT_POLLING | {HUB, WATCHER}]
    assert unexplained == [], f"repeating timers that do not say what they are for: {unexplained}"


def _code_lines(path: Path) -> list[tuple[int, str]]:
    return [(number, line) for number, line in enumerate(path.read_text().splitlines(), 1)
            if not line.lstrip().startswith(("#", "from", "import"))]


def _purpose_constants(path: Path, allowed: set[str]) -> set[str]:
    """Module constants (NAME = "purpose") whose value is one of the allowed purposes."""
    found = re.findall(r'^([A-Z_][A-Z0-9_]*)\s*=\s*"([^"]+)"', path.read_text(), re.MULTILINE)
    return {constant for constant, value in found if value in allowed}


def test_ui_code_makes_timers_only_through_the_timers_module() -> None:
    """Timers made later (a dialog opened on demand) are covered by reading the code: studio/ui
    constructs QTimer only in timers.py, and every repeating timer names an allowed purpose."""
    allowed = NOT_POLLING | {HUB, WATCHER}
    offenders = []
    for path in sorted((ROOT / "studio" / "ui").rglob("*.py")):
        where = path.relative_to(ROOT)
        constants = _purpose_constants(path, allowed)
        for number, line in _code_lines(path):
            if "QTimer(" in line and path.name != "timers.py":
                offenders.append(f"{where}:{number}: QTimer made outside timers.py: {line.strip()}")
            if "repeating_timer(" not in line or line.lstrip().startswith("def "):
                continue
            named = re.search(r"name=(\w+|\"[^\"]+\")", line)
            name = named.group(1) if named else ""
            if (name.startswith('"') and name.strip('"') in allowed) or name in constants:
                continue
            offenders.append(f"{where}:{number}: repeating timer without an allowed purpose: {line.strip()}")
    assert offenders == [], "\n".join(offenders)
