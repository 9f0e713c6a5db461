"""The studio's own files and program, from the checkout and as a PyInstaller bundle sees them."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

from studio import resources
from studio.engine.comfyui.workflows import BUILTIN_DIR
from studio.engine.media.presets import load_presets
from studio.engine.training.config import load_presets as training_presets

ROOT = Path(__file__).resolve().parents[1]


def test_from_a_checkout_the_resources_folder_is_the_repositorys() -> None:
    assert resources.resources_dir() == ROOT / "resources"
    assert resources.resource_path("icons", "app.svg").is_file()
    assert BUILTIN_DIR == ROOT / "resources" / "workflows"
    assert load_presets() and training_presets()
    assert resources.studio_command() == [sys.executable, "-m", "studio"]


def test_frozen_it_looks_inside_the_bundle_and_runs_its_own_executable(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    monkeypatch.setattr(sys, "executable", str(tmp_path.parent / "influencerai-studio"))
    assert resources.is_frozen()
    assert resources.resource_path("workflows") == tmp_path / "resources" / "workflows"
    assert resources.studio_command() == [str(tmp_path.parent / "influencerai-studio")]


def test_tools_get_this_python_from_a_checkout_and_the_systems_from_a_bundle(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    assert resources.tool_python() == sys.executable
    python3 = tmp_path / "bin" / "python3"
    python3.parent.mkdir()
    python3.write_text("#!/bin/sh\n")
    python3.chmod(0o755)
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    monkeypatch.setenv("PATH", str(python3.parent))
    assert resources.tool_python() == str(python3)  # never the bundle's own executable
