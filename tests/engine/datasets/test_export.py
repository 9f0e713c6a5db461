"""kohya export: folder and toml layout, what is left out, reproducible bytes, safe overwrite."""
from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from studio.engine.core import Studio
from studio.engine.datasets import captions, export
from studio.engine.datasets.export import export_kohya
from studio.engine.datasets.service import image_ids, list_images, update_image
from studio.engine.errors import InvalidInput
from tests.engine.datasets.caption_helpers import add_image, image_bytes, make_dataset


@pytest.fixture
def dataset(studio: Studio):  # type: ignore[no-untyped-def]
    ds = make_dataset(studio)
    add_image(studio, ds, 1, caption="mia_v, red dress\nbeach")
    add_image(studio, ds, 2, caption="mia_v, city", near_dup_group=7)
    add_image(studio, ds, 3, caption="mia_v, city again", near_dup_group=7)
    add_image(studio, ds, 4, caption="mia_v, blurry", excluded=True)
    add_image(studio, ds, 5, caption="")
    return ds


def _snapshot(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture(autouse=True)
def no_crops(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests choose the crop renderer themselves, whether or not crops.py has landed."""
    monkeypatch.setattr(export, "_crop_renderer", lambda: None)


def test_layout_and_config(studio: Studio, dataset, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    result = export_kohya(studio, dataset, tmp_path / "out")
    folder = tmp_path / "out" / "img" / "10_mia_v woman"
    assert result.image_dir == folder and (result.images, result.captions) == (3, 2)
    assert (result.skipped_excluded, result.skipped_duplicates) == (1, 1)
    names = sorted(p.name for p in folder.iterdir())
    assert [n.split("_")[0] for n in names] == ["0001", "0001", "0002", "0002", "0003"]
    assert len(names) == 5  # three images, two captions: the empty caption gets no .txt
    first_txt = next(folder.glob("0001_*.txt"))
    assert first_txt.read_text(encoding="utf-8") == "mia_v, red dress beach"  # one line
    config = tomllib.loads(result.config_file.read_text(encoding="utf-8"))
    assert config["general"] == {"caption_extension": ".txt", "shuffle_caption": True, "keep_tokens": 1}
    ds = config["datasets"][0]
    assert (ds["resolution"], ds["enable_bucket"], ds["min_bucket_reso"], ds["max_bucket_reso"],
            ds["bucket_reso_steps"]) == (512, True, 256, 1024, 64)
    assert ds["subsets"] == [{"image_dir": str(folder), "num_repeats": 10, "class_tokens": "mia_v woman"}]
    manifest = json.loads(result.manifest_file.read_text(encoding="utf-8"))
    assert manifest["dataset_id"] == str(dataset.id) and manifest["dataset_name"] == "Set A"
    assert sorted(manifest["files"]) == sorted(_snapshot(tmp_path / "out").keys() - {"manifest.json"})


def test_left_out_images_can_be_included(studio: Studio, dataset, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    result = export_kohya(studio, dataset, tmp_path / "all", include_near_duplicates=True,
                          include_excluded=True)
    assert (result.images, result.skipped_excluded, result.skipped_duplicates) == (5, 0, 0)


def test_no_trigger_no_keep_tokens_and_no_class(studio: Studio, tmp_path: Path) -> None:
    ds = make_dataset(studio, trigger="", class_token="", repeats=3)
    add_image(studio, ds, 1, caption="x")
    result = export_kohya(studio, ds, tmp_path / "o")
    assert result.image_dir.name == "3_Set A"
    assert "keep_tokens" not in tomllib.loads(result.config_file.read_text())["general"]


def test_reproducible_and_versioned(studio: Studio, dataset, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "out"
    first = export_kohya(studio, dataset, out)
    before = _snapshot(out)
    again = export_kohya(studio, dataset, out)  # overwriting a previous export is allowed
    assert _snapshot(out) == before and again.dataset_version == first.dataset_version
    export_kohya(studio, dataset, tmp_path / "b")  # another folder: only image_dir differs
    elsewhere = _snapshot(tmp_path / "b")
    assert {k: v for k, v in elsewhere.items() if k != "dataset_config.toml"} == \
        {k: v for k, v in before.items() if k != "dataset_config.toml"}
    captions.apply(studio, dataset, captions.AddTags(["new"]))
    changed = export_kohya(studio, dataset, out)
    assert changed.dataset_version != first.dataset_version
    assert json.loads(changed.manifest_file.read_text())["dataset_version"] == changed.dataset_version
    assert not list(tmp_path.glob(".out.*"))  # no temporary folder left behind


def test_refuses_a_folder_that_is_not_an_export(studio: Studio, dataset, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "notes.txt").write_text("mine")
    with pytest.raises(InvalidInput, match="not empty and is not a previous export") as info:
        export_kohya(studio, dataset, busy)
    assert "\n" not in str(info.value) and (busy / "notes.txt").read_text() == "mine"
    out = tmp_path / "out"
    export_kohya(studio, dataset, out)
    (out / "img" / "my_lora.safetensors").write_bytes(b"weights")
    with pytest.raises(InvalidInput, match="my_lora.safetensors"):
        export_kohya(studio, dataset, out)
    assert (out / "img" / "my_lora.safetensors").exists()


def test_originals_copied_unchanged_without_crops(studio: Studio, tmp_path: Path) -> None:
    ds = make_dataset(studio)
    data = image_bytes(1, fmt="JPEG")
    image = add_image(studio, ds, 1, caption="mia_v", data=data, ext=".jpg",
                      crop={"x": 0, "y": 0, "w": 10, "h": 10, "bucket": [512, 512]})
    result = export_kohya(studio, ds, tmp_path / "o")
    assert (result.image_dir / f"0001_{image.sha256[:8]}.jpg").read_bytes() == data


def test_crop_rendered_when_crops_exist(studio: Studio, tmp_path: Path,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[dict[str, Any]] = []

    def render(path: Path, crop: dict[str, Any]) -> Image.Image:
        calls.append(crop)
        with Image.open(path) as img:
            return img.convert("RGB").crop((crop["x"], crop["y"], crop["x"] + crop["w"],
                                            crop["y"] + crop["h"])).resize(tuple(crop["bucket"]))

    monkeypatch.setattr(export, "_crop_renderer", lambda: render)
    ds = make_dataset(studio)
    crop = {"x": 4, "y": 2, "w": 20, "h": 20, "bucket": [64, 64]}
    add_image(studio, ds, 1, caption="mia_v", crop=crop)
    plain = add_image(studio, ds, 2, caption="mia_v")
    result = export_kohya(studio, ds, tmp_path / "o")
    with Image.open(next(result.image_dir.glob("0001_*.png"))) as out:
        assert out.size == (64, 64)
    assert calls == [crop]
    copied = result.image_dir / f"0002_{plain.sha256[:8]}.png"
    assert copied.read_bytes() == image_bytes(2)
    assert export.guess_resolution(list_images(studio, ds)) == 64  # from the crops' bucket


def test_exif_rotation_and_tiff_are_rendered(studio: Studio, tmp_path: Path) -> None:
    ds = make_dataset(studio)
    add_image(studio, ds, 1, caption="mia_v", ext=".jpg",
              data=image_bytes(1, size=(48, 32), fmt="JPEG", exif_orientation=6))
    add_image(studio, ds, 2, caption="mia_v", ext=".tif", data=image_bytes(2, fmt="TIFF"))
    result = export_kohya(studio, ds, tmp_path / "o")
    rotated = next(result.image_dir.glob("0001_*"))
    with Image.open(rotated) as img:
        assert (rotated.suffix, img.size, img.getexif().get(0x0112)) == (".jpg", (32, 48), None)
    assert next(result.image_dir.glob("0002_*")).suffix == ".png"


def test_excluding_changes_the_version(studio: Studio, dataset, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    first = export_kohya(studio, dataset, tmp_path / "a")
    image_id = image_ids(studio, dataset)[0]
    update_image(studio, dataset.workspace_id, image_id, excluded=True)
    assert export_kohya(studio, dataset, tmp_path / "a").dataset_version != first.dataset_version
