"""The doctor's sd-scripts check asks sd-scripts' own Python, through the probe, what it can
import: the fake sd-scripts (with its torch and accelerate stand-ins) run in this Python."""
from __future__ import annotations

import shutil
import sys
from pathlib import Path

from studio.engine.core import Studio
from studio.engine.doctor import Check, run_checks
from tests.engine.training.helpers import FAKE_SD_SCRIPTS


def sdscripts_check(studio: Studio, *, quick: bool = False) -> Check:
    return next(c for c in run_checks(studio, quick=quick) if c.key == "sdscripts")


def fake_checkout(tmp_path: Path, *, without: tuple[str, ...] = ()) -> Path:
    folder = tmp_path / "sd-scripts"
    shutil.copytree(FAKE_SD_SCRIPTS, folder, ignore=shutil.ignore_patterns("__pycache__", *without))
    return folder


def test_it_names_torch_and_accelerate_versions_and_the_options(studio: Studio, tmp_path: Path) -> None:
    studio.settings.sdscripts.folder = str(fake_checkout(tmp_path))
    studio.settings.sdscripts.python = sys.executable
    found = sdscripts_check(studio)
    assert found.status == "ok", found.detail
    assert f"with {sys.executable} (sdscripts.python): accelerate 1.6.0+fake, torch 2.13.0+fake" in found.detail
    assert "options in train_network.py" in found.detail and "runs with python" in found.detail


def test_a_missing_module_is_named_with_the_python(studio: Studio, tmp_path: Path) -> None:
    studio.settings.sdscripts.folder = str(fake_checkout(tmp_path, without=("accelerate",)))
    studio.settings.sdscripts.python = sys.executable
    found = sdscripts_check(studio)
    assert found.status == "problem"
    assert found.detail.startswith(f"{sys.executable} (sdscripts.python) has no module 'accelerate'")
    assert "pip install -r requirements.txt" in found.fix and "sdscripts.python" in found.fix


def test_the_status_bar_uses_only_a_cached_answer(studio: Studio, tmp_path: Path) -> None:
    folder = fake_checkout(tmp_path, without=("torch",))
    studio.settings.sdscripts.folder = str(folder)
    studio.settings.sdscripts.python = sys.executable
    quick = sdscripts_check(studio, quick=True)
    assert quick.status == "ok" and "not checked yet" in quick.detail  # no seconds-long import here
    assert "has no module 'torch'" in sdscripts_check(studio).detail
    assert "has no module 'torch'" in sdscripts_check(studio, quick=True).detail  # now cached
    shutil.copytree(FAKE_SD_SCRIPTS / "torch", folder / "torch")  # installing it changes the folder
    assert sdscripts_check(studio).status == "ok"


def test_a_python_setting_that_points_nowhere_is_a_problem(studio: Studio, tmp_path: Path) -> None:
    studio.settings.sdscripts.folder = str(fake_checkout(tmp_path))
    studio.settings.sdscripts.python = str(tmp_path / "no" / "python")
    found = sdscripts_check(studio)
    assert found.status == "problem" and found.detail == (
        f"sdscripts.python points at {tmp_path / 'no' / 'python'}, which does not exist")
    assert "clear it" in found.fix
