"""Presets from JSON: the built-ins, a user's own, and a broken file."""
from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from studio.engine.errors import InvalidInput
from studio.engine.media.presets import BUILTIN_DIR, find_preset, load_presets


def test_builtins_are_complete() -> None:
    presets = load_presets()
    for preset in presets.values():
        assert preset.crf and preset.maxrate_kbps and preset.bufsize_kbps >= preset.maxrate_kbps
        assert preset.audio_rate == 48000 and preset.loudness_lufs == -14.0
        assert 0 < preset.min_duration_s < preset.max_duration_s and not math.isinf(preset.max_duration_s)
    assert presets["instagram-reel"].aspect_label == "9:16"
    assert presets["instagram-feed-4x5"].aspect_label == "4:5"
    assert presets["youtube-shorts"].max_duration_s == 180
    assert presets["tiktok"].max_duration_s == 600


def test_a_user_preset_replaces_a_builtin(tmp_path: Path) -> None:
    data = json.loads((BUILTIN_DIR / "tiktok.json").read_text())
    data["video"]["crf"] = 23
    (tmp_path / "my-tiktok.json").write_text(json.dumps(data))
    assert find_preset("tiktok", tmp_path).crf == 23
    assert find_preset("tiktok").crf == 20


def test_broken_presets_are_named(tmp_path: Path) -> None:
    (tmp_path / "odd.json").write_text(json.dumps({"width": 1081, "height": 1920}))
    with pytest.raises(InvalidInput, match="odd.json is not valid: width and height must be even"):
        load_presets(tmp_path)
    (tmp_path / "odd.json").write_text("{")
    with pytest.raises(InvalidInput, match="odd.json cannot be read"):
        load_presets(tmp_path)
    with pytest.raises(InvalidInput, match="no export preset 'vine'; there are: instagram-feed-1x1"):
        find_preset("vine")
