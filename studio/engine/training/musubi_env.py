"""Which musubi-tuner and which Python run it: one answer for the doctor, the plan and the job.

musubi-tuner keeps its scripts in ``src/musubi_tuner/`` and imports itself as the package
``musubi_tuner``; its README installs it into a venv (``uv sync`` makes ``.venv``, pip makes
``venv``) and runs ``python src/musubi_tuner/<script>.py`` or ``accelerate launch …``. The
Python is found in the order sd-scripts' is (python_env.py): the ``musubi.python`` setting, the
folder's venv, ``python3`` on PATH. Every command gets ``PYTHONPATH=<folder>/src`` so that a
checkout that was never ``pip install``-ed still finds its own package.
"""
from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from studio.engine.training.command import Launch
from studio.engine.training.python_env import accelerate_beside, sdscripts_python

PACKAGE_DIR = Path("src") / "musubi_tuner"
# The scripts the studio runs, by family: latents, text-encoder outputs, training.
SCRIPTS = {
    "qwen_image": ("qwen_image_cache_latents.py", "qwen_image_cache_text_encoder_outputs.py",
                   "qwen_image_train_network.py"),
    "wan22_14b": ("wan_cache_latents.py", "wan_cache_text_encoder_outputs.py", "wan_train_network.py"),
}
IMPORT_CHECK_S = 120  # importing torch on a cold disk takes a while; a hang is not a pass
# cache_latents is what every caching script imports first; it pulls in musubi-tuner's dataset
# code and its requirements (av, opencv, …), so a half-installed venv is caught here.
IMPORT_CHECK = ("import torch, accelerate, musubi_tuner.cache_latents; "
                "print(torch.__version__, accelerate.__version__)")


def resolve_musubi(folder: Path, python_setting: str = "") -> Launch:
    """The checkout, its Python and ``accelerate`` beside that Python (None: none there)."""
    python = sdscripts_python(folder, python_setting).path
    return Launch(folder=folder.expanduser().absolute(), python=python, accelerate=accelerate_beside(python))


def script_path(launch: Launch, script: str) -> Path:
    return launch.folder / PACKAGE_DIR / script


def musubi_env(launch: Launch) -> dict[str, str]:
    """What each musubi command runs with on top of the studio's environment."""
    src = str(launch.folder / "src")
    current = os.environ.get("PYTHONPATH", "")
    return {"PYTHONPATH": src + (os.pathsep + current if current else "")}


def layout_problems(launch: Launch, family: str) -> list[str]:
    """Why this folder and Python cannot run ``family``'s scripts (empty: they can be tried)."""
    folder = launch.folder
    if not folder.is_dir():
        return [f"The musubi-tuner folder {folder} does not exist (set musubi.folder in Settings, "
                "Training tools)."]
    scripts = SCRIPTS.get(family)
    if scripts is None:
        return [f"musubi-tuner has no training for the family '{family}' (it trains qwen_image and "
                "wan22_14b here; Wan 2.2 TI2V 5B is not in its wan_train_network.py tasks)."]
    missing = [s for s in scripts if not script_path(launch, s).is_file()]
    problems = []
    if missing:
        problems.append(f"{folder} is not a musubi-tuner checkout: src/musubi_tuner/{missing[0]} is missing.")
    if not Path(launch.python).is_file():
        problems.append(f"The Python for musubi-tuner ({launch.python}) does not exist (musubi.python).")
    return problems


@dataclass(frozen=True, slots=True)
class ImportCheck:
    problem: str | None  # one sentence; None when torch, accelerate and musubi_tuner all load
    versions: str = ""  # "torch 2.5.1, accelerate 1.6.0"


def check_imports(launch: Launch) -> ImportCheck:
    """Imports torch, accelerate and musubi_tuner in the Python training will use."""
    try:
        done = subprocess.run([launch.python, "-c", IMPORT_CHECK], cwd=launch.folder,
                              env={**os.environ, **musubi_env(launch)}, capture_output=True,
                              text=True, timeout=IMPORT_CHECK_S, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return ImportCheck(f"{launch.python} could not be asked for torch and accelerate: {exc}")
    words = done.stdout.split()
    if done.returncode == 0 and len(words) >= 2:
        return ImportCheck(None, f"torch {words[0]}, accelerate {words[1]}")
    lines = [line for line in done.stderr.splitlines() if line.strip()] or ["no message"]
    last = lines[-1].strip()
    if "No module named" in last:
        module = last.split("No module named", 1)[1].strip(" '\"")
        return ImportCheck(f"{launch.python} has no module '{module}', which musubi-tuner needs: install "
                           "musubi-tuner into it as its README says (PyTorch first, then pip install -e . "
                           "in its folder), or set musubi.python to the Python that has it.")
    return ImportCheck(f"musubi-tuner does not load in {launch.python}: {last}")
