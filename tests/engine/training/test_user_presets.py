"""User training presets: saved atomically as JSON in the config folder, listed, replaced, deleted."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from studio.engine.errors import InvalidInput, NotFound
from studio.engine.training.user_presets import (
    delete_user_preset,
    load_user_presets,
    presets_dir,
    save_user_preset,
)

VALUES = {"learning_rate": "0.0002", "network_dim": "32", "cache_latents": True,
          "sample_prompts": ("{trigger} portrait", "{trigger} at the beach")}


def test_save_load_round_trip_and_delete(tmp_path: Path) -> None:
    saved = save_user_preset(tmp_path, name="  My SDXL,  fast! ", base="sdxl-likeness-24gb", values=VALUES)
    assert (saved.slug, saved.name) == ("my-sdxl-fast", "My SDXL, fast!")
    stored = json.loads((presets_dir(tmp_path) / "my-sdxl-fast.json").read_text())
    assert stored["base"] == "sdxl-likeness-24gb" and stored["values"]["network_dim"] == "32"
    save_user_preset(tmp_path, name="a first one", base="sd15-fast-test", values={})
    [first, mine] = load_user_presets(tmp_path)
    assert first.name == "a first one" and mine == saved
    assert mine.values["sample_prompts"] == ["{trigger} portrait", "{trigger} at the beach"]
    # Saving under the same name replaces it; no temporary file is left behind.
    save_user_preset(tmp_path, name="my sdxl fast", base="sdxl-likeness-24gb", values={"network_dim": "64"})
    assert [p.values for p in load_user_presets(tmp_path) if p.slug == "my-sdxl-fast"] == [{"network_dim": "64"}]
    assert sorted(p.name for p in presets_dir(tmp_path).iterdir()) == ["a-first-one.json", "my-sdxl-fast.json"]
    delete_user_preset(tmp_path, "my-sdxl-fast")
    assert [p.slug for p in load_user_presets(tmp_path)] == ["a-first-one"]
    with pytest.raises(NotFound):
        delete_user_preset(tmp_path, "my-sdxl-fast")


def test_no_folder_and_damaged_files_give_what_is_readable(tmp_path: Path) -> None:
    assert load_user_presets(tmp_path) == []
    presets_dir(tmp_path).mkdir()
    (presets_dir(tmp_path) / "broken.json").write_text("{not json")
    save_user_preset(tmp_path, name="ok", base="sd15-fast-test", values={})
    assert [p.slug for p in load_user_presets(tmp_path)] == ["ok"]


@pytest.mark.parametrize("name", ["", "!!!", "x" * 61])
def test_a_name_without_letters_or_too_long_is_refused(tmp_path: Path, name: str) -> None:
    with pytest.raises(InvalidInput, match="preset name"):
        save_user_preset(tmp_path, name=name, base="sd15-fast-test", values={})
