"""The probe asks sd-scripts' own Python what it has and accepts; the answer is cached while
nothing it depends on changes. Run here against the fake sd-scripts in this Python."""
from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from studio.engine.training import probe as probe_module
from studio.engine.training.command import Launch
from studio.engine.training.probe import probe_sdscripts
from tests.engine.helpers import fake_tool
from tests.engine.training.helpers import FAKE_SD_SCRIPTS


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    folder = tmp_path / "sd-scripts"
    shutil.copytree(FAKE_SD_SCRIPTS, folder, ignore=shutil.ignore_patterns("__pycache__"))
    return folder


def launch_of(folder: Path, python: str = sys.executable) -> Launch:
    return Launch(folder=folder, python=python, accelerate=None)


def test_it_reports_versions_and_each_scripts_options(checkout: Path, tmp_path: Path) -> None:
    found = probe_sdscripts(launch_of(checkout), tmp_path / "cache")
    assert found is not None and found.ran and not found.cached
    assert found.versions == {"torch": "2.13.0+fake", "accelerate": "1.6.0+fake"}
    sd15, sdxl = found.options("train_network.py"), found.options("sdxl_train_network.py")
    assert sd15 is not None and sdxl is not None
    assert (sd15["lowram"].takes_value, sd15["lowram"].nargs, sd15["lowram"].const) == (False, 0, True)
    assert (sd15["tokenizer_cache_dir"].takes_value, sd15["tokenizer_cache_dir"].type_name) == (True, "str")
    assert sd15["network_args"].nargs == "*" and sd15["network_dim"].type_name == "int"
    assert sd15["mixed_precision"].choices == ("no", "fp16", "bf16")
    assert "cache_text_encoder_outputs" in sdxl and "cache_text_encoder_outputs" not in sd15
    assert "help" not in sd15  # -h/--help is argparse's, not an option to set


def test_a_second_probe_is_cached_in_memory_and_on_disk_until_a_file_changes(
        checkout: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cache = tmp_path / "cache"
    first = probe_sdscripts(launch_of(checkout), cache)
    assert first is not None and not first.cached
    again = probe_sdscripts(launch_of(checkout), cache)
    assert again is not None and again.cached and again.options("train_network.py") == first.options(
        "train_network.py")
    monkeypatch.setattr(probe_module, "_memo", {})  # a new process: only the cache folder knows
    from_disk = probe_sdscripts(launch_of(checkout), cache, cached_only=True)
    assert from_disk is not None and from_disk.cached and from_disk.versions == first.versions
    script = checkout / "train_network.py"
    script.write_text(script.read_text() + "\n# changed\n")  # an update of sd-scripts
    assert probe_sdscripts(launch_of(checkout), cache, cached_only=True) is None
    fresh = probe_sdscripts(launch_of(checkout), cache)
    assert fresh is not None and not fresh.cached


def test_a_missing_module_is_the_answer_not_an_error(checkout: Path, tmp_path: Path) -> None:
    shutil.rmtree(checkout / "torch")
    found = probe_sdscripts(launch_of(checkout), tmp_path / "cache")
    assert found is not None and found.ran and found.missing("train_network.py") == "torch"
    assert found.problem("train_network.py") == f"the Python for sd-scripts ({sys.executable}) has no module 'torch'"
    assert found.options("train_network.py") is None


def test_a_python_that_cannot_answer_is_said_in_one_line(checkout: Path, tmp_path: Path) -> None:
    nowhere = probe_sdscripts(launch_of(checkout, str(tmp_path / "no-python")), None)
    assert nowhere is not None and not nowhere.ran
    assert nowhere.reason.startswith(f"the Python for sd-scripts ({tmp_path / 'no-python'}) cannot be started")
    mute = fake_tool(tmp_path / "bin", "python", "print('hello'); sys.exit(3)")
    found = probe_sdscripts(launch_of(checkout, str(mute)), None)
    assert found is not None and found.reason == (
        f"the Python for sd-scripts ({mute}) could not run the probe: exit 3")
    stuck = fake_tool(tmp_path / "bin", "stuck", "import time; time.sleep(60)")
    late = probe_sdscripts(launch_of(checkout, str(stuck)), None, timeout_s=0.5)
    assert late is not None and late.reason == f"the Python for sd-scripts ({stuck}) did not answer within 0.5 s"
