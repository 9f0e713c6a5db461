"""Running the outside tools the studio checks (FFmpeg, nvidia-smi, …): never through a shell,
never hanging, never raising for a tool that is missing or fails."""
from __future__ import annotations

import subprocess

TOOL_TIMEOUT_S = 10.0


def run_tool(argv: list[str], timeout_s: float = TOOL_TIMEOUT_S) -> subprocess.CompletedProcess[str]:
    """The tool's outcome; a timeout reads as exit 124 and a start failure as exit 127."""
    try:
        return subprocess.run(argv, capture_output=True, text=True, timeout=timeout_s,
                              errors="replace", check=False)
    except subprocess.TimeoutExpired:
        return subprocess.CompletedProcess(argv, 124, "", f"no answer within {timeout_s:g} s")
    except OSError as exc:
        return subprocess.CompletedProcess(argv, 127, "", str(exc))


def first_line(text: str, default: str = "") -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[0] if lines else default
