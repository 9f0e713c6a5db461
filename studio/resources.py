"""Where the studio finds its own files and its own program, from a checkout or from a bundle.

A PyInstaller bundle unpacks everything under ``sys._MEIPASS`` (the ``_internal`` folder beside
the executable, or ``Contents/Frameworks`` in a macOS ``.app``); there ``sys.executable`` is the
studio itself, not a Python that could run ``-m studio``.
"""
from __future__ import annotations

import shutil
import sys
from pathlib import Path


def is_frozen() -> bool:
    return bool(getattr(sys, "frozen", False)) and hasattr(sys, "_MEIPASS")


def resources_dir() -> Path:
    """The ``resources`` folder: workflows, presets and icons."""
    if is_frozen():
        return Path(getattr(sys, "_MEIPASS", "")) / "resources"  # set by PyInstaller's bootloader
    return Path(__file__).resolve().parents[1] / "resources"


def resource_path(*parts: str) -> Path:
    return resources_dir().joinpath(*parts)


def studio_command() -> list[str]:
    """The command that starts this same studio (its verbs follow), e.g. for the worker."""
    if is_frozen():
        return [sys.executable]
    return [sys.executable, "-m", "studio"]


def tool_python() -> str:
    """The Python that runs ComfyUI or sd-scripts when neither setting nor venv names one: this
    one from a checkout; from a bundle, which has no Python to lend, python3 on PATH."""
    if not is_frozen():
        return sys.executable
    return shutil.which("python3") or shutil.which("python") or "python3"
