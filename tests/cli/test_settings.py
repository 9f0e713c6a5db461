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
