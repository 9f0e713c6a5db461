"""Analysis on real pictures: a face is found, blur and exposure are told apart, near-duplicates
are grouped, results are cached, and a 3000×4000 JPEG takes well under 100 ms."""
from __future__ import annotations

from io import BytesIO
from pathlib import Path

import cv2
import imagehash
import numpy as np
import pytest
from PIL import Image

from studio.engine.core import Studio
from studio.engine.datasets.analysis import (
    ANALYSIS_SIDE,
    BLUR_THRESHOLD,
    analyze_dataset,
    analyze_file,
    group_near_duplicates,
)
from studio.engine.datasets.importer import import_paths
from studio.engine.datasets.service import list_images
from studio.engine.db.models import Dataset, DatasetImage
from tests.engine.datasets.corpus import astronaut, blurred, noise, save, scene


def test_one_face_in_the_astronaut_none_in_noise(tmp_path: Path) -> None:
    face = analyze_file(save(tmp_path / "astronaut.jpg", astronaut(), quality=92))
    assert len(face.faces) == 1
    x, y, w, h = face.faces[0]
    assert 150 <= x + w / 2 <= 260 and 60 <= y + h / 2 <= 170 and 60 <= w <= 140  # her face
    [score] = face.quality["face_scores"]  # the detector's confidence (0.75–1), one per face
    assert 0.8 < score <= 1.0
    assert analyze_file(save(tmp_path / "noise.png", noise((512, 512), seed=1))).faces == []



def test_a_face_too_small_to_train_on_is_not_counted(tmp_path: Path) -> None:
    """Faces under MIN_FACE of the short side are not counted; one above it is found."""
    def portrait(side: int) -> Path:  # her face is about a fifth of the pasted picture
        picture = scene((2000, 2600), seed=2)
        picture.paste(astronaut().resize((side, side)), (50, 400))
        return save(tmp_path / f"portrait-{side}.jpg", picture, quality=90)
    assert analyze_file(portrait(700)).faces == []  # a face of 7 % of the short side
    [(x, y, w, h)] = analyze_file(portrait(1700)).faces  # 17 %
    assert 500 <= x + w / 2 <= 900 and 700 <= y + h / 2 <= 900 and w > 250

def test_face_boxes_are_in_original_pixels_of_the_upright_image(tmp_path: Path) -> None:
    big = astronaut().resize((1536, 1536)).rotate(90, expand=True)  # lying on its side…
    exif = Image.Exif()
    exif[0x0112] = 6  # …and EXIF says: turn it back when shown
    result = analyze_file(save(tmp_path / "big.jpg", big, exif=exif, quality=90))
    [(x, y, w, h)] = result.faces
    assert 450 <= x + w / 2 <= 780 and 180 <= y + h / 2 <= 510 and w > 180


def test_blur_is_told_apart_from_the_original(tmp_path: Path) -> None:
    sharp = analyze_file(save(tmp_path / "sharp.png", astronaut())).quality
    soft = analyze_file(save(tmp_path / "soft.png", blurred(astronaut(), 3))).quality
    assert sharp["sharpness"] > 3 * BLUR_THRESHOLD > 3 * soft["sharpness"]
    assert (sharp["blurry"], soft["blurry"]) == (False, True)


def test_exposure_flags_dark_and_bright(tmp_path: Path) -> None:
    dark = analyze_file(save(tmp_path / "dark.png", Image.new("RGB", (300, 200), (3, 3, 3)))).quality
    white = Image.new("RGB", (300, 200), (252, 252, 252))
    bright = analyze_file(save(tmp_path / "bright.png", white)).quality
    normal = analyze_file(save(tmp_path / "ok.png", astronaut())).quality
    assert dark["dark"] and dark["clipped_dark"] == 1.0 and not dark["bright"]
    assert bright["bright"] and bright["clipped_bright"] == 1.0 and not bright["dark"]
    assert not normal["dark"] and not normal["bright"] and 60 < normal["brightness"] < 200
    assert dark["aspect"] == 1.5
    assert set(normal) >= {"sharpness", "brightness", "clipped_dark", "clipped_bright", "blurry",
                           "dark", "bright", "aspect"}


def test_grouping_chains_close_hashes_and_leaves_others_alone() -> None:
    hashes = ["0000000000000000", "000000000000000f", "ffffffffffffffff", None, "00000000000000ff",
              "f0f0f0f0f0f0f0f0"]
    assert group_near_duplicates(hashes, threshold=4) == [1, 1, None, None, 1, None]
    assert group_near_duplicates(hashes, threshold=0) == [None] * 6


def test_a_resized_re_encoded_copy_is_grouped_and_other_images_are_not(
        studio: Studio, dataset: Dataset, tmp_path: Path) -> None:
    drop = tmp_path / "drop"
    save(drop / "a.png", astronaut())
    save(drop / "b.jpg", astronaut().resize((300, 300)), quality=70)  # the same photo, smaller
    for seed in range(3):
        save(drop / f"other{seed}.png", scene(seed=seed))
    import_paths(studio, dataset, [drop])
    summary = analyze_dataset(studio, dataset)
    groups = {i.original_name: i.near_dup_group for i in list_images(studio, dataset)}
    assert groups["a.png"] is not None and groups["a.png"] == groups["b.jpg"]
    assert [groups[f"other{s}.png"] for s in range(3)] == [None, None, None]
    assert summary.near_duplicate_groups == 1
    assert (summary.analyzed, summary.skipped) == (0, 5)  # each was analysed as it was imported


def test_results_are_cached_until_forced(studio: Studio, dataset: Dataset, tmp_path: Path) -> None:
    drop = tmp_path / "drop"
    save(drop / "face.png", astronaut())
    save(drop / "blur.png", blurred(scene(seed=1), 4))
    import_paths(studio, dataset, [drop])
    first = analyze_dataset(studio, dataset)
    stamps = {i.id: i.analyzed_at for i in list_images(studio, dataset)}
    again = analyze_dataset(studio, dataset)
    forced = analyze_dataset(studio, dataset, force=True, image_ids=list(stamps)[:1])
    after = list_images(studio, dataset)
    assert (first.analyzed, first.skipped) == (0, 2)  # analysed as they were imported
    assert (again.analyzed, again.skipped) == (0, 2)
    assert (forced.analyzed, forced.skipped) == (1, 0)
    assert [i.analyzed_at != stamps[i.id] for i in after] == [True, False]
    assert first.faces == {"none": 1, "one": 1, "several": 0} and first.blurry == 1
    image = after[0]
    assert image.phash and len(image.phash) == 16 and image.quality["sha256"] == image.sha256


def test_pictures_analysed_with_the_old_face_detector_are_analysed_again(studio: Studio, dataset: Dataset,
                                                                         tmp_path: Path) -> None:
    import_paths(studio, dataset, [save(tmp_path / "face.png", astronaut()), save(tmp_path / "sky.png", scene(seed=4))])
    old = list_images(studio, dataset)[0]
    with studio.db.session() as session:  # as the Haar cascade left it: its weight, no detector named
        row = session.get(DatasetImage, old.id)
        assert row is not None and row.quality["faces_by"] == "blazeface-short"
        row.quality = {**{k: v for k, v in row.quality.items() if k != "faces_by"}, "face_scores": [5.57]}
    summary = analyze_dataset(studio, dataset)
    assert (summary.analyzed, summary.skipped) == (1, 1)
    [score] = list_images(studio, dataset)[0].quality["face_scores"]
    assert 0.75 <= score <= 1.0


def test_a_missing_original_is_reported_not_fatal(studio: Studio, dataset: Dataset, tmp_path: Path) -> None:
    import_paths(studio, dataset, [save(tmp_path / "x.png", scene(seed=2)),
                                   save(tmp_path / "y.png", scene(seed=3))])
    gone = list_images(studio, dataset)[0]
    studio.asset_path(gone.storage_key).unlink()
    summary = analyze_dataset(studio, dataset, force=True)  # not cached: read again
    assert summary.analyzed == 1 and summary.failed == {str(gone.id): "file not found"}


@pytest.mark.parametrize("size", [(1200, 900), (700, 2100), (500, 375)])
def test_hash_and_scores_are_those_of_the_plain_formulas(tmp_path: Path, size: tuple[int, int]) -> None:
    """The analysis takes short cuts (one grey picture, one histogram, no copy before shrinking);
    its numbers stay those of the plain way: near-duplicate groups depend on the very hash."""
    picture = astronaut().resize(size)
    analysed = analyze_file(save(tmp_path / "astronaut.png", picture))
    plain = picture.copy()
    plain.thumbnail((ANALYSIS_SIDE, ANALYSIS_SIDE), Image.Resampling.BILINEAR)
    grey = np.asarray(plain.convert("L"))
    assert analysed.phash == str(imagehash.phash(plain))
    assert analysed.quality["sharpness"] == round(float(cv2.Laplacian(grey, cv2.CV_64F).var()), 2)
    assert (analysed.quality["brightness"], analysed.quality["clipped_dark"], analysed.quality["clipped_bright"]) == (
        round(float(grey.mean()), 2), round(float((grey <= 5).mean()), 4), round(float((grey >= 250).mean()), 4))


def test_a_3000_by_4000_jpeg_is_analysed_whole(tmp_path: Path) -> None:
    """Its speed is measured in bench/datasets.py against a bare decode, not timed here."""
    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:4000, 0:3000]
    pixels = np.stack([x * 255 // 3000, y * 255 // 4000, (x + y) % 256], -1)
    pixels = pixels + rng.integers(-12, 12, (4000, 3000, 1))
    path = tmp_path / "big.jpg"
    path.write_bytes(_jpeg(Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))))
    result = analyze_file(path)
    assert result.quality["aspect"] == 0.75
    assert result.faces == []  # a gradient has no face


def _jpeg(image: Image.Image) -> bytes:
    buffer = BytesIO()
    image.save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()
