"""Starting a child program in a process group of its own, so stopping it reaches its children too."""

from __future__ import annotations

import subprocess
import sys
from typing import TypedDict


class GroupOptions(TypedDict):
    start_new_session: bool
    creationflags: int


def own_group() -> GroupOptions:
    """Popen options for a new process group: a new session on POSIX, a new group on Windows."""
    if sys.platform == "win32":
        return {"start_new_session": False, "creationflags": subprocess.CREATE_NEW_PROCESS_GROUP}
    return {"start_new_session": True, "creationflags": 0}
