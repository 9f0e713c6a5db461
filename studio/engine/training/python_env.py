"""Which Python runs sd-scripts: one answer for the doctor, the dry run and the training job.

The order is the one a creator who runs sd-scripts by hand follows: the Python they named
(``sdscripts.python``), else the venv that sd-scripts' install guide creates inside its folder
(``venv`` or ``.venv``), else the ``python3`` (``python`` on Windows) on PATH, which is what
``python train_network.py`` or ``accelerate launch`` would run in their terminal. Never the
studio's own interpreter: it holds the studio's packages, not torch, and a bundle has none.
"""
from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

VENV_NAMES = ("venv", ".venv")
SETTING, VENV, PATH, NONE = "sdscripts.python", "venv", "PATH", "none"


@dataclass(frozen=True, slots=True)
class PythonChoice:
    path: str  # as given or found; a venv's python is kept unresolved (the link is the venv)
    source: str  # SETTING, VENV, PATH or NONE (nothing found: path is "python3")

    @property
    def exists(self) -> bool:
        return self.source != NONE and (Path(self.path).is_file() or shutil.which(self.path) is not None)

    def describe(self) -> str:
        """The path and where it came from, e.g. ``/x/venv/bin/python (the folder's venv)``."""
        origin = {SETTING: "sdscripts.python", VENV: "the folder's venv", PATH: "python3 on PATH",
                  NONE: "none found"}[self.source]
        return f"{self.path} ({origin})"


def sdscripts_python(folder: Path, setting: str = "") -> PythonChoice:
    """The Python for the sd-scripts checkout ``folder``; see the module's note for the order."""
    named = setting.strip()
    if named:
        return PythonChoice(str(Path(named).expanduser()), SETTING)
    root = folder.expanduser().absolute()
    for venv in VENV_NAMES:
        for candidate in (root / venv / "bin" / "python", root / venv / "Scripts" / "python.exe"):
            if candidate.is_file():
                return PythonChoice(str(candidate), VENV)
    system = shutil.which("python3") or shutil.which("python")
    if system:
        return PythonChoice(system, PATH)
    return PythonChoice("python3", NONE)


def accelerate_beside(python: str) -> str | None:
    """``accelerate`` installed beside that Python (its venv's bin or Scripts), or None: one
    found elsewhere on PATH may belong to another Python."""
    bin_dir = Path(python).parent
    if not str(bin_dir) or bin_dir == Path("."):
        return None
    for candidate in (bin_dir / "accelerate", bin_dir / "accelerate.exe"):
        if candidate.is_file():
            return str(candidate)
    return None
