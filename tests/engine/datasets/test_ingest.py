"""An import's one pass (decode once, thumbnails, analysis) records what the analysis of the
stored file finds on its own: the same hash, scores and faces, so results did not change."""
from __future__ import annotations

from io import BytesIO
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import studio.engine.datasets.ingest as ingest_module
from studio.engine.core import Studio
from studio.engine.datasets.analysis import FACES_BY, analyze_dataset, analyze_file
from studio.engine.datasets.importer import import_paths
from studio.engine.datasets.ingest import REDUCE_TO, IngestTask, ingest
from studio.engine.datasets.service import list_images
from studio.engine.db.models import Dataset
from studio.engine.media.thumbnails import thumbnail_path
from tests.engine.datasets.corpus import astronaut, blurred, noise, save, scene


def _drop(folder: Path) -> Path:
    save(folder / "face.jpg", astronaut(), quality=92)
    big = astronaut().resize((1536, 1536)).rotate(90, expand=True)
    exif = Image.Exif()
    exif[0x0112] = 6  # lying on its side, EXIF turns it upright
    save(folder / "turned.jpg", big, exif=exif, quality=90)
    save(folder / "soft.png", blurred(scene(seed=1), 4))
    save(folder / "dark.png", Image.new("RGB", (300, 200), (3, 3, 3)))
    save(folder / "copy.jpg", astronaut().resize((300, 300)), quality=70)
    save(folder / "noise.webp", noise((90, 70), seed=4))
    return folder


def test_import_records_what_the_analysis_alone_finds(studio: Studio, dataset: Dataset,
                                                      tmp_path: Path) -> None:
    report = import_paths(studio, dataset, [_drop(tmp_path / "drop")])
    assert report.imported == 6
    images = {i.original_name: i for i in list_images(studio, dataset)}
    for image in images.values():
        alone = analyze_file(studio.asset_path(image.storage_key))
        assert image.analyzed_at is not None and image.crop is not None
        assert (image.phash, image.faces) == (alone.phash, alone.faces), image.original_name
        assert image.quality == {**alone.quality, "sha256": image.sha256, "faces_by": FACES_BY}
        for size in (128, 256):
            assert thumbnail_path(studio.paths.cache_dir, image.sha256, size).stat().st_size > 0
    assert [len(images[n].faces) for n in ("face.jpg", "turned.jpg", "noise.webp")] == [1, 1, 0]
    assert images["soft.png"].quality["blurry"] and images["dark.png"].quality["dark"]
    summary = analyze_dataset(studio, dataset)  # groups the near-duplicates, reads no file again
    assert (summary.analyzed, summary.skipped, summary.near_duplicate_groups) == (0, 6, 1)
    grouped = {i.original_name for i in list_images(studio, dataset) if i.near_dup_group}
    assert grouped == {"face.jpg", "turned.jpg", "copy.jpg"}


def test_one_decode_is_what_each_needed_alone_and_damage_is_still_refused(tmp_path: Path) -> None:
    assert REDUCE_TO == 256  # a 12 MP JPEG decodes at 1/8 (375×500) for both
    buffer = BytesIO()
    Image.fromarray(np.full((400, 300, 3), 90, np.uint8)).save(buffer, format="JPEG", quality=90)
    whole = buffer.getvalue()
    (tmp_path / "whole").write_bytes(whole)
    (tmp_path / "half").write_bytes(whole[: len(whole) // 2])
    done = ingest(IngestTask(tmp_path / "whole", "ab" * 32, tmp_path, ("JPEG",)))
    assert (done.width, done.height, done.format, done.thumbnails_error) == (300, 400, "JPEG", "")
    assert done.analysis is not None and done.analysis.quality["aspect"] == 0.75
    with pytest.raises(ValueError, match=r"^damaged image [^\n]*$"):  # one line, cut off or not
        ingest(IngestTask(tmp_path / "half", "cd" * 32, tmp_path, ("JPEG",)))


def test_a_nearly_full_disk_leaves_the_thumbnails_for_later(tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """The originals and the database need the room; the grid makes thumbnails when shown."""
    picture = save(tmp_path / "a.png", scene(seed=2))
    monkeypatch.setattr(ingest_module, "LOW_SPACE", 1 << 62)  # more than any disk has free
    done = ingest(IngestTask(picture, "ab" * 32, tmp_path / "cache", ("PNG",)))
    assert "nearly full" in done.thumbnails_error and done.analysis is not None
    assert not (tmp_path / "cache").exists()
