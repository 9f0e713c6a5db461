"""The studio's image limits: pixels and decoded bytes, one module for every place that decodes."""
from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

import studio.engine.media.image_limits as limits
from studio.engine.datasets.crops import render_crop
from studio.engine.errors import InvalidInput
from studio.engine.media.presets import load_presets
from studio.engine.media.still import export_still
from studio.engine.media.thumbnails import decode_image, shrunk
from tests.engine.datasets.corpus import huge_png, png_bomb


@pytest.fixture(scope="module")
def huge(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return huge_png(tmp_path_factory.mktemp("huge") / "huge.png")


def test_a_small_png_of_huge_dimensions_is_refused_by_decoded_bytes(huge: Path) -> None:
    assert huge.stat().st_size < 1_000_000  # a file size says nothing of its cost
    with pytest.raises(limits.ImageTooLarge) as refused:
        decode_image(huge.read_bytes(), reduce_to=256)
    assert str(refused.value) == ("too large to decode (13000×13000 pixels take 645 MB in memory; "
                                  "at most 256 MB)")
    with pytest.raises(InvalidInput, match=r"^huge.png is not exported: too large to decode"):
        export_still(huge, load_presets()["instagram-feed-4x5"], huge.with_name("out.jpg"))
    assert not huge.with_name("out.jpg").exists()


def test_a_header_past_the_pixel_limit_is_refused_before_any_decoding(tmp_path: Path) -> None:
    bomb = png_bomb(tmp_path / "bomb.png", side=20_000, height=8_920)  # past ours, not Pillow's
    with pytest.raises(limits.ImageTooLarge, match=r"20000×8920 pixels, more than 178 million"):
        decode_image(bomb.read_bytes())
    giant = png_bomb(tmp_path / "giant.png", side=60_000)  # Pillow's own error, in our words
    with pytest.raises(limits.ImageTooLarge, match=r"too many pixels \(3600000000; more than "
                                                   r"178 million\)"):
        limits.open_image(giant)
    with pytest.raises(InvalidInput, match="giant.png is not exported: too many pixels"):
        export_still(giant, load_presets()["tiktok"], tmp_path / "out.jpg")


def test_a_jpeg_is_decoded_reduced_where_less_is_needed_and_a_png_cannot_be(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(limits, "MAX_DECODED_BYTES", 16 * 2**20)  # 4000×3000 needs 46 MB
    photo = Image.radial_gradient("L").resize((4000, 3000)).convert("RGB")
    jpeg, png = io.BytesIO(), io.BytesIO()
    photo.save(jpeg, format="JPEG", quality=80)
    photo.save(png, format="PNG", compress_level=1)
    decoded = decode_image(jpeg.getvalue(), reduce_to=256)  # libjpeg at 1/8: 500×375
    assert (decoded.width, decoded.height) == (4000, 3000) and decoded.image.size == (500, 375)
    with pytest.raises(limits.ImageTooLarge, match=r"4000×3000 pixels take 46 MB"):
        decode_image(jpeg.getvalue())  # wanted whole: refused, not decoded
    with pytest.raises(limits.ImageTooLarge, match=r"4000×3000 pixels take 46 MB"):
        decode_image(png.getvalue(), reduce_to=256)
    source = tmp_path / "photo.jpg"
    source.write_bytes(jpeg.getvalue())
    crop = {"x": 0, "y": 0, "w": 3000, "h": 3000, "target": 512, "bucket": [512, 512],
            "source": "manual"}
    assert render_crop(source, crop).size == (512, 512)  # decoded at 1/2 (1024 px for 512)


def test_a_crop_of_a_picture_past_the_limit_is_a_readable_refusal(huge: Path) -> None:
    crop = {"x": 0, "y": 0, "w": 6000, "h": 6000, "bucket": [1024, 1024], "source": "manual"}
    with pytest.raises(InvalidInput, match=r"huge.png cannot be cropped: too large to decode"):
        render_crop(huge, crop)


def test_thumbnails_are_made_without_a_full_size_copy() -> None:
    picture = Image.new("RGB", (3000, 2000), "teal")
    small = shrunk(picture, 256)
    assert small.size == (256, 171) and small is not picture
    assert shrunk(small, 256) is small  # already within: nothing to do, nothing copied


def test_covering_keeps_twice_the_frame_in_either_orientation() -> None:
    assert limits.covering((12000, 9000), (1080, 1350)) == (3600, 2700)
    assert limits.covering((1600, 900), (1080, 1350)) == (1600, 900)  # too small to reduce
