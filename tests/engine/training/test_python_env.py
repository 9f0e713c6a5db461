"""Which Python runs sd-scripts: the setting, the folder's venv, python3 on PATH; never the
studio's own interpreter (it has no torch; a bundle has no Python at all)."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

from studio.engine.training.command import resolve_launch
from studio.engine.training.python_env import NONE, PATH, SETTING, VENV, accelerate_beside, sdscripts_python
from tests.engine.helpers import fake_tool


@pytest.fixture
def path_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """PATH holds only this folder, so the host's own pythons never answer."""
    folder = tmp_path / "path-bin"
    folder.mkdir()
    monkeypatch.setenv("PATH", str(folder))
    return folder


def test_without_setting_or_venv_it_is_python3_on_path_as_in_a_terminal(tmp_path: Path, path_dir: Path) -> None:
    python3 = fake_tool(path_dir, "python3", "pass")
    choice = sdscripts_python(tmp_path / "sd-scripts")
    assert (choice.path, choice.source) == (str(python3), PATH)
    assert choice.exists and choice.describe() == f"{python3} (python3 on PATH)"
    launch = resolve_launch(tmp_path / "sd-scripts")
    assert launch.python == str(python3) != sys.executable
    assert launch.prefix("sd15")[0] == str(python3)  # no accelerate beside it: plain python


def test_the_venv_inside_the_folder_wins_over_path_and_the_setting_over_both(tmp_path: Path,
                                                                             path_dir: Path) -> None:
    fake_tool(path_dir, "python3", "pass")
    folder = tmp_path / "sd-scripts"
    venv_python = fake_tool(folder / ".venv" / "bin", "python", "pass")
    assert sdscripts_python(folder) == sdscripts_python(folder, "  ")
    assert (sdscripts_python(folder).path, sdscripts_python(folder).source) == (str(venv_python), VENV)
    named = sdscripts_python(folder, "~/no/such/python")
    assert named.source == SETTING and named.path == str(Path("~/no/such/python").expanduser())
    assert not named.exists


def test_nothing_found_is_said_plainly(tmp_path: Path, path_dir: Path) -> None:
    choice = sdscripts_python(tmp_path / "sd-scripts")
    assert (choice.path, choice.source, choice.exists) == ("python3", NONE, False)
    assert choice.describe() == "python3 (none found)"


def test_accelerate_is_taken_only_from_beside_the_python(tmp_path: Path, path_dir: Path) -> None:
    fake_tool(path_dir, "accelerate", "pass")  # on PATH, but it may belong to another Python
    venv_bin = tmp_path / "venv" / "bin"
    python = fake_tool(venv_bin, "python", "pass")
    assert accelerate_beside(str(python)) is None
    accelerate = fake_tool(venv_bin, "accelerate", "pass")
    assert accelerate_beside(str(python)) == str(accelerate)
    assert accelerate_beside("python3") is None
