"""settings get|set|list: validated through Settings.set and saved to the profile's TOML."""
from __future__ import annotations

import tomllib
from pathlib import Path

from studio.engine.config import ComfyUISettings
from studio.engine.core import Studio
from tests.cli.conftest import Cli, one_error_line


def test_set_get_and_saved(cli: Cli, data_dir: Path) -> None:
    assert cli("settings", "set", "comfyui.url", "http://gpu-box:8188").code == 0
    assert cli("settings", "set", "queue.video_workers", "2").code == 0
    assert cli("settings", "get", "comfyui.url").out.strip() == "http://gpu-box:8188"
    assert cli("settings", "get", "queue.video_workers", "--json").json() == {
        "key": "queue.video_workers", "value": 2}
    saved = tomllib.loads((data_dir / "settings.toml").read_text())
    assert saved["comfyui"]["url"] == "http://gpu-box:8188" and saved["queue"]["video_workers"] == 2
    assert Studio.open(data_dir).settings.llm.base_url == "https://openrouter.ai/api/v1"


def test_list(cli: Cli) -> None:
    values = cli("settings", "list", "--json").json()
    assert values["comfyui.url"] == ComfyUISettings().url and "llm.base_url" in values  # the default, unread
    assert "ui.theme" in cli("settings", "list").out


def test_bad_values_are_usage_errors_and_not_saved(cli: Cli, data_dir: Path) -> None:
    before = (data_dir / "settings.toml").read_text()
    for args, words in ((("set", "ui.theme", "purple"), "must be one of"),
                        (("set", "queue.video_workers", "many"), "not a valid int"),
                        (("set", "queue.video_workers", "0"), "at least 1"),
                        (("set", "comfy.url", "x"), "Unknown setting"),
                        (("get", "nothing.here"), "Unknown setting")):
        result = cli("settings", *args)
        assert result.code == 2, args
        assert words in one_error_line(result.err)
    assert (data_dir / "settings.toml").read_text() == before


def test_bounds_are_checked_on_set(cli: Cli) -> None:
    for key, value, words in (("worker.heartbeat_interval_s", "0", "must be above 0"),
                              ("comfyui.port", "70000", "at most 65535"),
                              ("queue.generation_workers", "500", "at most 64"),
                              ("llm.base_url", "ftp://models.example", "http:// or https://"),
                              ("database.url", "mysql://db/studio", "postgresql://"),
                              ("queue.redis_url", "http://cache:6379", "redis:// or rediss://"),
                              ("server.s3_endpoint", "minio:9000", "http:// or https://")):
        result = cli("settings", "set", key, value)
        assert result.code == 2, (key, value)
        assert words in one_error_line(result.err) and key in result.err


def test_a_damaged_settings_file_does_not_block_and_set_repairs_it(cli: Cli, data_dir: Path) -> None:
    damaged = b'[comfyui]\nurl = "http://gpu-box:8188"\nport = 99999\n[queue]\nvideo_workers = 2\ngeneral_wor'
    (data_dir / "settings.toml").write_bytes(damaged)
    got = cli("settings", "get", "comfyui.url")
    assert got.code == 0 and got.out.strip() == "http://gpu-box:8188"  # what could be read is used
    warnings = got.err.strip().splitlines()
    assert len(warnings) == 2 and all(w.startswith("warning: ") for w in warnings)
    assert "is damaged" in warnings[0] and "comfyui.port must be at least 1 and at most 65535" in warnings[1]
    assert cli("workspace", "create", "Main").code == 0  # nothing lost says where the data is
    repaired = cli("settings", "set", "queue.general_workers", "3")
    assert repaired.code == 0 and repaired.out.strip() == "queue.general_workers = 3"
    copies = list(data_dir.glob("settings.toml.broken-*"))
    assert len(copies) == 1 and copies[0].read_bytes() == damaged
    assert f"the damaged file is kept as {copies[0].name}" in repaired.err
    saved = tomllib.loads((data_dir / "settings.toml").read_text())
    assert saved["comfyui"]["url"] == "http://gpu-box:8188" and saved["comfyui"]["port"] == 8188
    assert saved["queue"]["video_workers"] == 2 and saved["queue"]["general_workers"] == 3
    after = cli("workspace", "list")
    assert after.code == 0 and after.err == ""  # repaired: no more warnings


def test_damage_where_the_data_is_set_blocks_only_the_data(cli: Cli, data_dir: Path) -> None:
    (data_dir / "settings.toml").write_bytes(b"\0" * 256)  # zeroed by a crash
    listed = cli("workspace", "list")
    assert listed.code == 1 and "Traceback" not in listed.err
    error = [line for line in listed.err.splitlines() if line.startswith("error: ")]
    assert len(error) == 1 and "so the studio will not guess" in error[0]
    assert cli("settings", "list").code == 0  # the settings verbs still work, to repair it
    assert cli("settings", "set", "database.url", "").code == 0
    assert cli("workspace", "list").code == 0
    assert len(list(data_dir.glob("settings.toml.broken-*"))) == 1
