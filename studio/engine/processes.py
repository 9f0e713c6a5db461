"""Whether a process on this machine is still the one that wrote a record about itself.

A record (a worker's heartbeat row, a partial file's name) names a pid. A pid alone can be
reused by an unrelated process after the first one died, so a record also carries when its
process was alive; a process at that pid that started later is someone else. Start times come
from /proc on Linux; elsewhere they are unknown and the pid alone decides.
"""
from __future__ import annotations

import functools
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

# /proc's start time is boot time plus clock ticks; boot time itself drifts by up to a second.
START_SLACK = timedelta(seconds=2)


def pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by someone else
        return True
    except OSError:
        return False
    return True


def started_at(pid: int) -> datetime | None:
    """When process ``pid`` started (UTC); None when there is no such process or no /proc."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
        boot = _boot_time()
    except (OSError, ValueError):
        return None
    # The command name (field 2) may hold spaces and parentheses: fields follow the last ')'.
    fields = stat[stat.rfind(")") + 2:].split()
    try:
        ticks = int(fields[19])  # field 22 of the whole line
    except (IndexError, ValueError):
        return None
    return boot + timedelta(seconds=ticks / os.sysconf("SC_CLK_TCK"))


def still_running(pid: int, *, alive_at: datetime) -> bool:
    """True when ``pid`` runs and is the process that was alive at ``alive_at`` (not a later
    process that got the same pid)."""
    if not pid_alive(pid):
        return False
    start = started_at(pid)
    if start is None:
        return True
    when = alive_at if alive_at.tzinfo else alive_at.replace(tzinfo=UTC)
    return start <= when + START_SLACK


def start_token(pid: int | None = None) -> str:
    """A short text naming a process for good: its pid and start time (whole seconds)."""
    pid = os.getpid() if pid is None else pid
    start = started_at(pid)
    stamp = int(start.timestamp()) if start is not None else 0
    return f"{pid}-{stamp}"


def token_running(token: str) -> bool:
    """Whether the process a ``start_token`` named still runs (unknown tokens count as running)."""
    pid_text, _, stamp_text = token.partition("-")
    if not (pid_text.isdigit() and stamp_text.isdigit()):
        return True
    pid, stamp = int(pid_text), int(stamp_text)
    if not pid_alive(pid):
        return False
    start = started_at(pid)
    return start is None or stamp == 0 or abs(start.timestamp() - stamp) <= START_SLACK.total_seconds()


@functools.cache
def _boot_time() -> datetime:
    for line in Path("/proc/stat").read_text(encoding="ascii").splitlines():
        if line.startswith("btime "):
            return datetime.fromtimestamp(int(line.split()[1]), UTC)
    raise ValueError("no btime in /proc/stat")
