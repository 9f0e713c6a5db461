"""Desktop notifications from headless processes (a worker left running after the app closed)."""
from __future__ import annotations

import shutil
import subprocess
import sys


def notify(title: str, body: str) -> bool:
    """Shows a desktop notification where the platform offers a command for it; False otherwise."""
    argv = _command(title, body)
    if argv is None:
        return False
    try:
        return subprocess.run(argv, capture_output=True, timeout=10, check=False).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


def _command(title: str, body: str) -> list[str] | None:
    if sys.platform.startswith("linux") and shutil.which("notify-send"):
        return ["notify-send", "--app-name=InfluencerAI Studio", title, body]
    if sys.platform == "darwin" and shutil.which("osascript"):
        script = f"display notification {_quote(body)} with title {_quote(title)}"
        return ["osascript", "-e", script]
    return None


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
