"""Finding and checking musubi-tuner: its folder's layout, its Python's modules, the doctor's line."""
from __future__ import annotations

import shutil
import sys
from pathlib import Path

from studio.engine.core import Studio
from studio.engine.doctor import run_checks
from studio.engine.training.musubi_env import check_imports, layout_problems, musubi_env, resolve_musubi
from tests.engine.training.musubi_helpers import FAKE_MUSUBI, use_fake_musubi


def test_the_fake_checkout_passes_and_names_its_versions() -> None:
    launch = resolve_musubi(FAKE_MUSUBI, sys.executable)
    assert layout_problems(launch, "qwen_image") == layout_problems(launch, "wan22_14b") == []
    found = check_imports(launch)
    assert found.problem is None and found.versions == "torch 2.5.1+fake, accelerate 1.6.0+fake"
    assert musubi_env(launch)["PYTHONPATH"].split(":")[0] == str(FAKE_MUSUBI / "src")


def test_a_folder_without_the_scripts_or_python_is_named(tmp_path: Path) -> None:
    launch = resolve_musubi(tmp_path, str(tmp_path / "python"))
    problems = layout_problems(launch, "wan22_14b")
    assert problems == [f"{tmp_path} is not a musubi-tuner checkout: src/musubi_tuner/wan_cache_latents.py is missing.",
                        f"The Python for musubi-tuner ({tmp_path / 'python'}) does not exist (musubi.python)."]
    assert layout_problems(resolve_musubi(tmp_path / "gone"), "qwen_image")[0].startswith(
        f"The musubi-tuner folder {tmp_path / 'gone'} does not exist")
    assert "Wan 2.2 TI2V 5B is not in its wan_train_network.py tasks" in layout_problems(launch, "wan22_5b")[0]


def test_a_python_without_torch_is_told_how_to_install_it(tmp_path: Path) -> None:
    checkout = tmp_path / "musubi-tuner"
    shutil.copytree(FAKE_MUSUBI / "src" / "musubi_tuner", checkout / "src" / "musubi_tuner")
    found = check_imports(resolve_musubi(checkout, sys.executable))
    assert found.problem is not None and found.problem.startswith(f"{sys.executable} has no module 'torch'")
    assert "pip install -e ." in found.problem


def test_doctor_line(studio: Studio) -> None:
    rows = {c.key: c for c in run_checks(studio, quick=True)}
    assert rows["musubi"].status == "missing" and "musubi.folder" in rows["musubi"].fix
    use_fake_musubi(studio)
    quick = {c.key: c for c in run_checks(studio, quick=True)}["musubi"]
    assert quick.status == "ok" and "not checked yet" in quick.detail
