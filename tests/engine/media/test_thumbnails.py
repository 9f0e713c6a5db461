"""Thumbnails of every kind of image, and a clear reason for every file that is refused."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from studio.engine.media.thumbnails import make_thumbnails


def _save(path: Path, image: Image.Image, **kw: object) -> Path:
    image.save(path, **kw)
    return path


@pytest.mark.parametrize("mode,fmt", [("RGB", "JPEG"), ("RGBA", "PNG"), ("P", "PNG"), ("CMYK", "JPEG"),
                                      ("L", "TIFF"), ("I;16", "PNG"), ("RGB", "WEBP"), ("RGB", "BMP")])
def test_every_mode_becomes_a_thumbnail(tmp_path: Path, mode: str, fmt: str) -> None:
    image = Image.new("RGB", (900, 600), (200, 50, 20)).convert(mode) if mode != "I;16" else \
        Image.fromarray(np.full((600, 900), 40000, dtype=np.uint16))
    src = _save(tmp_path / f"src.{fmt.lower()}", image, format=fmt)
    thumbs = make_thumbnails(src, tmp_path / "cache", (128,))
    out = Image.open(thumbs[0].path)
    assert out.size == (128, 85) and out.mode in ("RGB", "RGBA")


def test_exif_orientation_is_applied(tmp_path: Path) -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise when shown
    src = _save(tmp_path / "rot.jpg", Image.new("RGB", (400, 200)), exif=exif)
    thumb = make_thumbnails(src, tmp_path / "cache", (100,))[0]
    assert Image.open(thumb.path).size == (50, 100)


def test_same_content_shares_one_thumbnail(tmp_path: Path) -> None:
    a = _save(tmp_path / "a.png", Image.new("RGB", (300, 300), "red"))
    b = tmp_path / "copy of a.png"
    b.write_bytes(a.read_bytes())
    assert make_thumbnails(a, tmp_path / "c")[0].path == make_thumbnails(b, tmp_path / "c")[0].path


@pytest.mark.parametrize("content,reason", [
    (b"", "empty file"),
    (b"this is not an image", "not an image"),
    (None, "damaged image"),
])
def test_bad_files_are_refused_with_a_reason(tmp_path: Path, content: bytes | None, reason: str) -> None:
    path = tmp_path / "bad.png"
    if content is None:
        good = _save(tmp_path / "good.png", Image.effect_noise((500, 500), 50).convert("RGB"))
        content = good.read_bytes()[:3000]  # truncated
    path.write_bytes(content)
    with pytest.raises(ValueError, match=reason):
        make_thumbnails(path, tmp_path / "cache")


def test_missing_file_and_bomb(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValueError, match="file not found"):
        make_thumbnails(tmp_path / "nope.png", tmp_path / "cache")
    import studio.engine.media.image_limits as image_limits
    monkeypatch.setattr(image_limits, "MAX_PIXELS", 10_000)
    big = _save(tmp_path / "big.png", Image.new("L", (1000, 1000)))
    with pytest.raises(ValueError, match="decompression bomb|too large|too many pixels"):
        make_thumbnails(big, tmp_path / "cache")


def test_hostile_file_names(tmp_path: Path) -> None:
    name = "ünï cødé $(rm -rf ~); 'quote' \"dq\" `tick`.png"
    src = _save(tmp_path / name, Image.new("RGB", (64, 64), "blue"))
    assert make_thumbnails(src, tmp_path / "cache", (32,))[0].path.is_file()
