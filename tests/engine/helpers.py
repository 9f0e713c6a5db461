"""What engine tests in several folders share."""
from __future__ import annotations

import stat
import sys
from pathlib import Path


def fake_tool(folder: Path, name: str, body: str) -> Path:
    """An executable Python script standing in for a real program."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(f"#!{sys.executable}\nimport sys\n{body}\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path
