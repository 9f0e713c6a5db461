"""What a hostile desk pushes onto a queue: a pickle that does something when it is loaded."""
from __future__ import annotations

import pickle
import struct
import time
from pathlib import Path


class CreatesFile:
    """Unpickling this opens (creates) a file: what an attacker's payload could do."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self) -> tuple[object, tuple[str, str]]:
        return (open, (str(self.path), "w"))


def crafted_pickle(marker: Path) -> bytes:
    return pickle.dumps(CreatesFile(marker))


def priority_member(data: bytes) -> bytes:
    """``data`` as PriorityRedisStorage stores it in its sorted set: after an 8-byte timestamp."""
    return struct.pack(">Q", int(time.time() * 1e6)) + data
