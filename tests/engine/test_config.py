from __future__ import annotations

from pathlib import Path

import pytest

from studio.engine.config import (
    DATA_DIR_ENV,
    Settings,
    load_settings,
    read_settings,
    resolve_paths,
    save_settings,
)
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
    ("queue.generation_workers", "65", "at most 64"),
    ("worker.heartbeat_interval_s", "0", "must be above 0"),
    ("worker.heartbeat_interval_s", "nan", "must be above 0"),
    ("worker.heartbeat_timeout_s", "-1", "must be above 0"),
    ("comfyui.port", "0", "at least 1 and at most 65535"),
    ("comfyui.port", "65536", "at least 1 and at most 65535"),
    ("comfyui.url", "", "starting with http:// or https://"),
    ("comfyui.url", "ftp://gpu-box", "starting with http:// or https://"),
    ("comfyui.url", "http://", "naming a host"),
    ("comfyui.url", "http://gpu-box:70000", "port that is not 1-65535"),
    ("llm.base_url", "file:///etc/passwd", "starting with http:// or https://"),
    ("database.url", "mysql://db/studio", "starting with postgresql://"),
    ("server.database_url", "sqlite:///x.db", "starting with postgresql://"),
    ("queue.redis_url", "http://cache:6379", "starting with redis:// or rediss://"),
    ("server.redis_url", "redis:/nohost", "naming a host"),
    ("server.s3_endpoint", "s3://bucket", "starting with http:// or https://"),
    ("pipeline.stagger_minutes", "-5", "at least 0"),
])
def test_bad_values_are_refused_with_one_line(key: str, value: str, message: str) -> None:
    """Every bound is checked on set; the line names the key."""
    with pytest.raises(SettingsError, match=message) as err:
        Settings().set(key, value)
    assert "\n" not in str(err.value) and key in str(err.value)


@pytest.mark.parametrize("key,value", [
    ("database.url", "postgresql+psycopg://studio@db:5432/studio"), ("database.url", ""),
    ("queue.redis_url", "rediss://cache:6380/0"), ("server.s3_endpoint", "https://s3.example"),
    ("comfyui.url", "https://gpu-box"), ("comfyui.port", "65535"), ("queue.training_workers", "64"),
    ("worker.heartbeat_interval_s", "0.5"),
])
def test_values_within_bounds_are_taken(key: str, value: str) -> None:
    settings = Settings()
    settings.set(key, value)
    assert str(settings.get(key)) == value


def test_a_damaged_file_gives_what_it_can_and_says_so_in_one_line(tmp_path: Path) -> None:
    path = tmp_path / "settings.toml"
    path.write_text('[comfyui]\nurl = "http://gpu-box:8188"\n[queue]\nvideo_workers = 2\ngeneral_wor',
                    encoding="utf-8")  # cut off inside a key, as a crash mid-write leaves it
    read = read_settings(path)
    assert read.settings.comfyui.url == "http://gpu-box:8188" and read.settings.queue.video_workers == 2
    assert read.lost == ("queue.general_wor… (line 5)",) and read.damaged
    assert len(read.problems) == 1 and "\n" not in read.problems[0]
    assert f"The settings file {path} is damaged" in read.problems[0]
    assert read.lost_among(("queue.general_workers",)) and not read.lost_among(("queue.backend",))
    assert load_settings(path).comfyui.url == "http://gpu-box:8188"


def test_a_value_out_of_bounds_in_the_file_is_named_and_left_at_its_default(tmp_path: Path) -> None:
    path = tmp_path / "settings.toml"
    path.write_text('[worker]\nheartbeat_interval_s = 0\n[comfyui]\nport = 99999\nurl = "http://a:1"\n',
                    encoding="utf-8")
    read = read_settings(path)
    assert read.settings.worker.heartbeat_interval_s == 5.0 and read.settings.comfyui.port == 8188
    assert read.settings.comfyui.url == "http://a:1"  # the good values stay
    assert read.lost == ("worker.heartbeat_interval_s", "comfyui.port")
    assert any("worker.heartbeat_interval_s must be above 0" in line for line in read.problems)
    assert any("comfyui.port must be at least 1 and at most 65535, not 99999" in line for line in read.problems)


def test_a_zero_filled_file_loses_where_the_data_is(tmp_path: Path) -> None:
    path = tmp_path / "settings.toml"
    path.write_bytes(b"\0" * 512)
    read = read_settings(path)
    assert read.settings == Settings() and read.damaged
    assert read.lost_among(("database.url",)) == read.lost  # unreadable: it may have said anything


def test_a_refused_value_leaves_the_old_one() -> None:
    settings = Settings()
    settings.set("queue.video_workers", "3")
    with pytest.raises(SettingsError):
        settings.set("queue.video_workers", "0")
    assert settings.queue.video_workers == 3


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
