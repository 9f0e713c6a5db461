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


def _start_ticks(pid: int) -> int | None:
    """When process ``pid`` started, in clock ticks since boot (None: no such process, no /proc).

    Ticks since boot never move; a wall-clock time made from them does whenever the clock is
    stepped (NTP, a virtual machine resumed), which is why tokens keep the ticks themselves."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return None
    # The command name (field 2) may hold spaces and parentheses: fields follow the last ')'.
    fields = stat[stat.rfind(")") + 2:].split()
    try:
        return int(fields[19])  # field 22 of the whole line
    except (IndexError, ValueError):
        return None


def started_at(pid: int) -> datetime | None:
    """When process ``pid`` started (UTC); None when there is no such process or no /proc."""
    ticks = _start_ticks(pid)
    if ticks is None:
        return None
    try:
        boot = _boot_time()
    except (OSError, ValueError):
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
    """A short text naming a process for good: its pid and start time (clock ticks since boot;
    0 where there is no /proc)."""
    pid = os.getpid() if pid is None else pid
    ticks = _start_ticks(pid)
    return f"{pid}-{ticks if ticks is not None else 0}"


def token_running(token: str) -> bool:
    """Whether the process a ``start_token`` named still runs (unknown tokens count as running)."""
    pid_text, _, ticks_text = token.partition("-")
    if not (pid_text.isdigit() and ticks_text.isdigit()):
        return True
    pid, ticks = int(pid_text), int(ticks_text)
    if not pid_alive(pid):
        return False
    now = _start_ticks(pid)
    return now is None or ticks == 0 or now == ticks


@functools.cache
def _boot_time() -> datetime:
    for line in Path("/proc/stat").read_text(encoding="ascii").splitlines():
        if line.startswith("btime "):
            return datetime.fromtimestamp(int(line.split()[1]), UTC)
    raise ValueError("no btime in /proc/stat")
