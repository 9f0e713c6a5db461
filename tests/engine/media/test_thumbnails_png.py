"""Thumbnail files: PNGs (OpenCV's encoder, every row Paeth-filtered) that Pillow and libpng
decode to the very pixels given, about as small as Pillow's own, other modes through Pillow; the
cache's files at their paths, JPEGs for opaque pictures and PNGs for those with alpha."""
from __future__ import annotations

import zlib
from io import BytesIO
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from studio.engine.media.thumbnails import png_bytes, shrunk, thumbnail_bytes, thumbnail_path, write_thumbnails
from tests.engine.datasets.corpus import astronaut, noise


def _pillow_png(image: Image.Image) -> bytes:
    buffer = BytesIO()
    image.save(buffer, format="PNG", compress_level=1, compress_type=zlib.Z_RLE)
    return buffer.getvalue()


@pytest.mark.parametrize("size", [(1, 1), (3, 2), (256, 256), (171, 256), (256, 13)])
@pytest.mark.parametrize("mode", ["RGB", "RGBA"])
def test_pillow_and_libpng_read_back_the_same_pixels(size: tuple[int, int], mode: str) -> None:
    picture = noise(size, seed=size[0] * 7 + size[1], mode=mode)  # every neighbour differs
    data = png_bytes(picture)
    with Image.open(BytesIO(data)) as decoded:
        assert decoded.mode == mode and decoded.size == size
        assert np.array_equal(np.asarray(decoded), np.asarray(picture))
    by_libpng = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    channels = cv2.COLOR_BGRA2RGBA if mode == "RGBA" else cv2.COLOR_BGR2RGB
    assert np.array_equal(cv2.cvtColor(by_libpng.reshape(size[1], size[0], -1), channels), np.asarray(picture))


def test_a_photo_thumbnail_is_about_as_small_as_pillows() -> None:
    thumbnail = shrunk(astronaut(), 256)
    ours, pillows = len(png_bytes(thumbnail)), len(_pillow_png(thumbnail))
    assert 0.9 * pillows < ours < 1.05 * pillows


def test_other_modes_are_written_as_they_are() -> None:
    grey = astronaut().convert("L").resize((64, 64))
    with Image.open(BytesIO(png_bytes(grey))) as decoded:
        assert decoded.mode == "L" and np.array_equal(np.asarray(decoded), np.asarray(grey))


def test_the_cache_files_keep_their_paths_and_sizes(tmp_path: Path) -> None:
    sha = "ab" * 32
    picture = astronaut().resize((375, 500))
    made = write_thumbnails(picture, tmp_path, sha)
    assert made == [thumbnail_path(tmp_path, sha, 128), thumbnail_path(tmp_path, sha, 256)]
    with Image.open(made[0]) as small, Image.open(made[1]) as large:
        assert (small.format, large.format) == ("JPEG", "JPEG")  # opaque: JPEG, opened by content
        assert (small.size, large.size) == ((96, 128), (192, 256))
        exact = np.asarray(shrunk(picture, 256), dtype=np.int16)
        assert np.abs(np.asarray(large, dtype=np.int16) - exact).mean() < 2.0
    assert made[1].stat().st_size < len(png_bytes(shrunk(picture, 256))) / 2


def test_a_thumbnail_with_alpha_is_a_png_of_the_very_pixels(tmp_path: Path) -> None:
    picture = noise((300, 200), seed=9, mode="RGBA")
    [small, large] = write_thumbnails(picture, tmp_path, "cd" * 32)
    with Image.open(large) as opened:
        assert opened.format == "PNG" and opened.mode == "RGBA"
        assert np.array_equal(np.asarray(opened), np.asarray(shrunk(picture, 256)))
    assert thumbnail_bytes(Image.new("L", (8, 8), 90))[:2] == b"\xff\xd8"  # grey: a JPEG too
    assert small.name.endswith("-128.thumb")
