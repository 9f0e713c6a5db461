"""``logs/comfyui.log``: the supervised ComfyUI's own output, with the supervisor's notes between.

ComfyUI draws progress bars with a carriage return and no newline, so a note may follow half a
line; each note starts on a line of its own.
"""
from __future__ import annotations

import os
from collections import deque
from datetime import datetime
from pathlib import Path

LOG_FILE = "comfyui.log"


def now_stamp() -> str:
    return datetime.now().isoformat(timespec="seconds")


def line_break(log_file: Path) -> str:
    """A newline when the log does not end with one (ComfyUI's last output was half a line)."""
    try:
        with open(log_file, "rb") as handle:
            if handle.seek(0, os.SEEK_END) == 0:
                return ""
            handle.seek(-1, os.SEEK_END)
            return "" if handle.read(1) == b"\n" else "\n"
    except OSError:
        return ""


def write_note(log_file: Path, message: str) -> None:
    """One line of the supervisor's own, ``--- TIME message``."""
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with open(log_file, "a", encoding="utf-8") as out:
        out.write(f"{line_break(log_file)}--- {now_stamp()} {message}\n")


def read_log_tail(log_file: Path, n: int) -> list[str]:
    """The last ``n`` lines of a log that may be large and still growing."""
    try:
        with open(log_file, "rb") as handle:
            size = handle.seek(0, os.SEEK_END)
            handle.seek(max(0, size - max(n, 1) * 400 - 4096))
            lines = handle.read().decode("utf-8", "replace").splitlines()
    except FileNotFoundError:
        return []
    return list(deque(lines, maxlen=n)) if n > 0 else []
