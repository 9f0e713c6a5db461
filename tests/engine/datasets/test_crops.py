"""Crops: kohya buckets, a face-aware automatic crop inside the image, manual crops kept."""
from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from studio.engine.core import Studio
from studio.engine.datasets.analysis import analyze_dataset
from studio.engine.datasets.crops import (
    Crop,
    buckets,
    closest_bucket,
    manual_crop,
    render_crop,
    set_manual_crop,
    suggest_crop,
)
from studio.engine.datasets.importer import import_paths
from studio.engine.datasets.service import list_images
from studio.engine.db.models import Dataset
from tests.engine.datasets.corpus import astronaut, save, scene


@pytest.mark.parametrize("target", [512, 768, 1024])
def test_buckets_follow_kohya_rules(target: int) -> None:
    found = buckets(target)
    assert (target, target) in found
    for w, h in found:
        assert w % 64 == 0 and h % 64 == 0 and 256 <= w <= 2048 and 256 <= h <= 2048
        assert w * h <= target * target
    assert any(w > h for w, h in found) and any(w < h for w, h in found)


def test_the_closest_bucket_is_chosen_by_aspect() -> None:
    assert closest_bucket(3000, 4000, 1024) == (896, 1152)   # 0.78 against 0.75
    assert closest_bucket(4000, 3000, 1024) == (1152, 896)
    assert closest_bucket(500, 500, 768) == (768, 768)
    assert closest_bucket(100, 1000, 512) == (256, 1024)     # as tall as a bucket gets


def _inside(crop: Crop, width: int, height: int) -> bool:
    return crop.x >= 0 and crop.y >= 0 and crop.x + crop.w <= width and crop.y + crop.h <= height


def _bucket_aspect(crop: Crop) -> bool:
    return abs(crop.w / crop.h - crop.bucket[0] / crop.bucket[1]) < 0.01


@pytest.mark.parametrize("size,face", [
    ((3000, 4000), (1300, 600, 400, 400)),   # portrait photo, face in the upper middle
    ((4000, 3000), (100, 50, 300, 300)),     # face at the very edge: the crop is clamped
    ((1200, 800), (900, 500, 250, 250)),     # face low right, picture too short for half-body
    ((512, 512), (177, 67, 93, 93)),         # the astronaut
])
@pytest.mark.parametrize("target", [512, 1024])
def test_automatic_crops_stay_inside_match_a_bucket_and_keep_the_face(
        size: tuple[int, int], face: tuple[int, int, int, int], target: int) -> None:
    width, height = size
    crop = suggest_crop(width, height, [list(face), [10, 10, 40, 40]], target)
    assert _inside(crop, width, height) and _bucket_aspect(crop)
    assert crop.bucket in buckets(target) and crop.source == "auto"
    fx, fy, fw, fh = face
    assert crop.x <= fx and fx + fw <= crop.x + crop.w and crop.y <= fy and fy + fh <= crop.y + crop.h
    assert crop.h >= min(height, 2.5 * fh)  # head and shoulders at least, not a face close-up


def test_half_body_framing_when_the_picture_allows_it() -> None:
    crop = suggest_crop(3000, 4000, [[1300, 600, 400, 400]], 1024)
    assert crop.h == 2000 and crop.y < 600 - 0.2 * 400  # five face heights, head room above


def test_without_a_face_the_crop_is_centred_and_as_large_as_fits() -> None:
    crop = suggest_crop(1000, 400, [], 512)
    assert crop.bucket == closest_bucket(1000, 400, 512)
    assert crop.h == 400 and crop.x == (1000 - crop.w) // 2 and _bucket_aspect(crop)


def test_a_manual_rectangle_is_clamped_and_trimmed_to_its_bucket() -> None:
    crop = manual_crop(800, 600, (-50, 100, 500, 700), 768)
    assert crop.source == "manual" and _inside(crop, 800, 600) and _bucket_aspect(crop)
    assert crop.bucket == closest_bucket(450, 500, 768)


def test_render_crop_gives_the_bucket_size_of_the_upright_picture(tmp_path: Path) -> None:
    image = Image.new("RGB", (400, 200), "blue")
    image.paste((255, 0, 0), (0, 0, 200, 200))  # left half red
    exif = Image.Exif()
    exif[0x0112] = 6  # shown turned: 200 wide, 400 high, red on top
    path = save(tmp_path / "turned.jpg", image, exif=exif, quality=95)
    crop = Crop(0, 0, 200, 200, 512, (512, 512))
    out = render_crop(path, crop.to_dict())
    assert out.size == (512, 512)
    r, _, b = out.getpixel((256, 256))[:3]
    assert r > 200 and b < 60


def test_a_manual_crop_survives_reanalysis(studio: Studio, dataset: Dataset, tmp_path: Path) -> None:
    drop = tmp_path / "drop"
    save(drop / "face.png", astronaut())
    save(drop / "plain.png", scene(seed=4))
    import_paths(studio, dataset, [drop])
    analyze_dataset(studio, dataset)
    face, plain = list_images(studio, dataset)
    assert face.crop is not None and face.crop["source"] == "auto" and len(face.faces) == 1
    fx, _, fw, _ = face.faces[0]
    assert face.crop["x"] <= fx and fx + fw <= face.crop["x"] + face.crop["w"]
    mine = set_manual_crop(studio, dataset.workspace_id, face.id, (0, 0, 300, 400))
    assert mine.crop_manual and mine.crop["source"] == "manual"
    analyze_dataset(studio, dataset, force=True, target=1024)
    face, plain = list_images(studio, dataset)
    assert face.crop == mine.crop
    assert plain.crop is not None and plain.crop["target"] == 1024 and plain.crop["source"] == "auto"


def test_a_rectangle_saved_without_target_or_bucket_still_renders(tmp_path: Path) -> None:
    path = save(tmp_path / "wide.png", scene((600, 300), seed=5))
    out = render_crop(path, {"x": 100, "y": 0, "w": 300, "h": 200, "source": "manual"})
    assert out.size == closest_bucket(300, 200, 512)
