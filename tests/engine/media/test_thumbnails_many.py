"""Thumbnails of many files on every core: the same pictures as one file at a time and as a
plain Pillow thumbnail, in the order given, and only a few files in flight."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageOps

from studio.engine.datasets.pool import PER_WORKER
from studio.engine.media.thumbnails import make_thumbnails, make_thumbnails_many


def _photo(size: tuple[int, int], mode: str = "RGB") -> Image.Image:
    """A gradient with a bright corner, so a wrong orientation or channel shows."""
    x = np.linspace(0, 255, size[0], dtype=np.float32)[None, :]
    y = np.linspace(0, 255, size[1], dtype=np.float32)[:, None]
    pixels = np.stack([x + 0 * y, y + 0 * x, (x + y) / 2], axis=-1).astype(np.uint8)
    pixels[: size[1] // 5, : size[0] // 5] = 255
    image = Image.fromarray(pixels)
    if mode == "RGBA":
        alpha = Image.fromarray((y + 0 * x).astype(np.uint8))
        image.putalpha(alpha)
    return image.convert(mode)


def _sources(folder: Path) -> list[Path]:
    exif = Image.Exif()
    exif[0x0112] = 6  # shown turned 90° clockwise
    rotated = folder / "rotated.jpg"
    _photo((1200, 800)).save(rotated, quality=90, exif=exif)
    alpha = folder / "alpha.png"
    _photo((900, 700), "RGBA").save(alpha)
    cmyk = folder / "cmyk.jpg"
    _photo((1000, 600), "CMYK").save(cmyk, quality=90)
    return [rotated, alpha, cmyk]


def _reference(source: Path, size: int) -> Image.Image:
    """What a viewer shows: plain Pillow, upright, shrunk to fit ``size``."""
    with Image.open(source) as opened:
        image = ImageOps.exif_transpose(opened)
        image = image.convert("RGBA" if "A" in image.getbands() else "RGB")
    image.thumbnail((size, size), Image.Resampling.LANCZOS)
    return image


def _mean_difference(a: Image.Image, b: Image.Image) -> float:
    return float(np.abs(np.asarray(a, dtype=np.int16) - np.asarray(b, dtype=np.int16)).mean())


def test_many_match_one_at_a_time_and_plain_pillow(tmp_path: Path) -> None:
    sources = _sources(tmp_path)
    many = list(make_thumbnails_many(sources, tmp_path / "many", workers=2))
    assert [source for source, _ in many] == sources
    for source, thumbs in many:
        assert not isinstance(thumbs, str)
        single = make_thumbnails(source, tmp_path / "single")
        for thumb, alone in zip(thumbs, single, strict=True):
            assert thumb.size == alone.size
            assert thumb.path.read_bytes() == Path(alone.path).read_bytes()
            with Image.open(thumb.path) as made:
                expected = _reference(source, thumb.size)
                assert made.mode == expected.mode
                # 128 is made from 256, so its rounding may differ by a pixel
                assert all(abs(a - b) <= 1 for a, b in zip(made.size, expected.size, strict=True))
                expected = expected.resize(made.size, Image.Resampling.LANCZOS)
                assert _mean_difference(made, expected) < 3.0, source.name


def test_exif_rotation_and_alpha_survive(tmp_path: Path) -> None:
    rotated, alpha, cmyk = _sources(tmp_path)
    outcomes = dict(make_thumbnails_many([rotated, alpha, cmyk], tmp_path / "cache", (256,)))
    sizes = {path.name: Image.open(thumbs[0].path).size for path, thumbs in outcomes.items()
             if not isinstance(thumbs, str)}
    assert sizes == {"rotated.jpg": (171, 256), "alpha.png": (256, 199), "cmyk.jpg": (256, 154)}
    assert Image.open(outcomes[alpha][0].path).mode == "RGBA"  # type: ignore[index]
    assert Image.open(outcomes[cmyk][0].path).mode == "RGB"  # type: ignore[index]


def test_refused_files_keep_their_place_and_reason(tmp_path: Path) -> None:
    good = tmp_path / "good.png"
    _photo((300, 200)).save(good)
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"this is not an image")
    missing = tmp_path / "missing.jpg"
    outcomes = list(make_thumbnails_many([bad, good, missing], tmp_path / "cache", workers=2))
    assert [source for source, _ in outcomes] == [bad, good, missing]
    assert isinstance(outcomes[0][1], str) and "not an image" in outcomes[0][1]
    assert not isinstance(outcomes[1][1], str) and outcomes[1][1][0].path.is_file()
    assert outcomes[2][1] == "file not found"


@pytest.mark.parametrize("workers", [1, 2])
def test_only_a_few_files_are_in_flight(tmp_path: Path, workers: int) -> None:
    source = tmp_path / "one.png"
    _photo((64, 64)).save(source)
    taken = 0

    def endless() -> Iterator[Path]:
        nonlocal taken
        while True:
            taken += 1
            yield source

    outcomes = make_thumbnails_many(endless(), tmp_path / "cache", (32,), workers=workers)
    first = next(outcomes)
    assert first[0] == source and not isinstance(first[1], str)
    assert taken == PER_WORKER * workers  # the rest of the folder is not read ahead
    outcomes.close()
