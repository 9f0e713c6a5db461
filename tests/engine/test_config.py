from __future__ import annotations

from pathlib import Path

import pytest

from studio.engine.config import DATA_DIR_ENV, Settings, load_settings, resolve_paths, save_settings
from studio.engine.errors import SettingsError


def test_defaults_round_trip_through_toml(tmp_path: Path) -> None:
    settings = Settings()
    settings.set("comfyui.url", "http://gpu-box:8188")
    settings.set("queue.generation_workers", "5")
    settings.set("sdscripts.folder", "/opt/sd-scripts")
    path = tmp_path / "settings.toml"
    save_settings(settings, path)
    loaded = load_settings(path)
    assert loaded.comfyui.url == "http://gpu-box:8188"
    assert loaded.queue.generation_workers == 5
    assert loaded.get("sdscripts.folder") == "/opt/sd-scripts"
    assert 'url = "http://gpu-box:8188"' in path.read_text()


@pytest.mark.parametrize("key,value,message", [
    ("nope.key", "x", "Unknown setting"),
    ("comfyui", "x", "Unknown setting"),
    ("queue.generation_workers", "many", "not a valid int"),
    ("queue.generation_workers", "0", "at least 1"),
    ("queue.backend", "kafka", "must be one of"),
])
def test_bad_values_are_refused_with_one_line(key: str, value: str, message: str) -> None:
    with pytest.raises(SettingsError, match=message) as err:
        Settings().set(key, value)
    assert "\n" not in str(err.value)


def test_broken_settings_file_is_a_readable_error(tmp_path: Path) -> None:
    path = tmp_path / "settings.toml"
    path.write_text("[comfyui\nurl = ", encoding="utf-8")
    with pytest.raises(SettingsError, match="cannot be read"):
        load_settings(path)


def test_unknown_sections_from_newer_versions_are_ignored(tmp_path: Path) -> None:
    path = tmp_path / "settings.toml"
    path.write_text('[future]\nx = 1\n[comfyui]\nurl = "http://a:1"\nlater = 2\n', encoding="utf-8")
    assert load_settings(path).comfyui.url == "http://a:1"


def test_data_dir_argument_and_environment_override(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    explicit = resolve_paths(tmp_path / "a")
    assert explicit.data_dir == (tmp_path / "a").resolve()
    assert explicit.settings_file.parent == explicit.data_dir  # a profile keeps its own settings
    monkeypatch.setenv(DATA_DIR_ENV, str(tmp_path / "b"))
    assert resolve_paths().data_dir == (tmp_path / "b").resolve()
    assert resolve_paths(tmp_path / "c").data_dir == (tmp_path / "c").resolve()


def test_default_paths_use_platform_folders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(DATA_DIR_ENV, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "share"))
    paths = resolve_paths()
    assert paths.config_dir == (tmp_path / "cfg" / "influencerai-studio").resolve()
    assert paths.data_dir == (tmp_path / "share" / "influencerai-studio").resolve()
    # the data folder can be moved in the settings
    settings = Settings()
    settings.set("general.data_dir", str(tmp_path / "elsewhere"))
    save_settings(settings, paths.settings_file)
    assert resolve_paths().data_dir == (tmp_path / "elsewhere").resolve()
