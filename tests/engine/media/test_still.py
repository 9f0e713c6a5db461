"""Still pictures framed for the platforms: size, sRGB, focus, blur fit, metadata stripped or kept."""
from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageCms, PngImagePlugin

from studio.engine.errors import InvalidInput
from studio.engine.media.presets import load_presets
from studio.engine.media.still import export_still

PRESETS = load_presets()
FEED = PRESETS["instagram-feed-4x5"]
GPS_IFD = 0x8825
MAKE = 0x010F
ORIENTATION = 0x0112


def halves(path: Path, size: tuple[int, int] = (1600, 900)) -> Path:
    """Left half red, right half blue: where a crop landed is plain to see."""
    image = Image.new("RGB", size, (220, 30, 30))
    image.paste((30, 30, 220), (size[0] // 2, 0, size[0], size[1]))
    image.save(path)
    return path


def with_metadata(path: Path) -> Path:
    image = Image.new("RGB", (640, 480), (120, 160, 90))
    exif = Image.Exif()
    exif[MAKE] = "StudioCam"
    exif.get_ifd(GPS_IFD)[2] = (38.0, 42.0, 0.0)  # GPSLatitude: Lisbon
    image.save(path, exif=exif.tobytes())
    return path


def test_each_frame_size_as_srgb_jpeg(tmp_path: Path) -> None:
    source = halves(tmp_path / "wide.png")
    for slug in ("instagram-feed-4x5", "instagram-feed-1x1", "instagram-reel"):
        preset = PRESETS[slug]
        result = export_still(source, preset, tmp_path / f"{slug}.jpg")
        with Image.open(result.path) as out:
            assert out.format == "JPEG" and out.mode == "RGB"
            assert out.size == (preset.width, preset.height) == (result.width, result.height)
            profile = ImageCms.ImageCmsProfile(io.BytesIO(out.info["icc_profile"]))
            assert "sRGB" in ImageCms.getProfileDescription(profile)


def test_the_crop_keeps_the_focus_point_in_view(tmp_path: Path) -> None:
    source = halves(tmp_path / "wide.png")
    right = np.asarray(Image.open(export_still(source, FEED, tmp_path / "r.jpg", focus=(1.0, 0.5)).path))
    left = np.asarray(Image.open(export_still(source, FEED, tmp_path / "l.jpg", focus=(0.0, 0.5)).path))
    assert right[..., 2].mean() > 200 and right[..., 0].mean() < 60  # all blue
    assert left[..., 0].mean() > 200 and left[..., 2].mean() < 60  # all red


def test_blur_fit_shows_the_whole_picture_on_a_blurred_copy(tmp_path: Path) -> None:
    source = halves(tmp_path / "wide.png")
    out = np.asarray(Image.open(export_still(source, FEED, tmp_path / "b.jpg", fit="blur").path)).astype(int)
    middle_row = out[FEED.height // 2]
    assert middle_row[10][0] > 200 and middle_row[-10][2] > 200  # both halves, edge to edge
    band = out[:200]  # above the picture: its blurred copy, not a flat bar
    assert band.std() > 5 and band.mean() > 40


def test_metadata_is_stripped_unless_kept(tmp_path: Path) -> None:
    source = with_metadata(tmp_path / "shot.jpg")
    plain = Image.open(export_still(source, FEED, tmp_path / "plain.jpg").path)
    assert MAKE not in plain.getexif() and not plain.getexif().get_ifd(GPS_IFD)
    kept = Image.open(export_still(source, FEED, tmp_path / "kept.jpg", keep_metadata=True).path)
    assert kept.getexif()[MAKE] == "StudioCam"
    assert kept.getexif().get_ifd(GPS_IFD)[2] == (38.0, 42.0, 0.0)


def test_a_generated_pngs_recipe_goes_unless_kept(tmp_path: Path) -> None:
    info = PngImagePlugin.PngInfo()
    info.add_text("prompt", '{"3": {"class_type": "KSampler"}}')
    source = tmp_path / "ComfyUI_00001_.png"
    Image.new("RGB", (512, 512), (90, 90, 200)).save(source, pnginfo=info)
    plain = Image.open(export_still(source, FEED, tmp_path / "plain.jpg").path)
    assert "comment" not in plain.info and b"KSampler" not in (tmp_path / "plain.jpg").read_bytes()
    kept = Image.open(export_still(source, FEED, tmp_path / "kept.jpg", keep_metadata=True).path)
    assert b"KSampler" in kept.info["comment"]


def test_exif_orientation_is_applied_to_the_pixels(tmp_path: Path) -> None:
    image = Image.new("RGB", (400, 200), (200, 20, 20))
    image.paste((20, 20, 200), (0, 0, 400, 100))  # top half blue as stored
    exif = Image.Exif()
    exif[ORIENTATION] = 6  # shown turned 90° clockwise: the blue half is then on the right
    source = tmp_path / "turned.jpg"
    image.save(source, exif=exif.tobytes(), quality=95)
    out = np.asarray(Image.open(export_still(source, PRESETS["instagram-feed-1x1"], tmp_path / "o.jpg",
                                             fit="blur", keep_metadata=True).path)).astype(int)
    centre = out[540]
    assert centre[540 + 100][2] > 150 and centre[540 - 100][0] > 150  # right blue, left red
    assert ORIENTATION not in Image.open(tmp_path / "o.jpg").getexif()


def test_transparency_lands_on_white(tmp_path: Path) -> None:
    source = tmp_path / "cutout.png"
    Image.new("RGBA", (500, 500), (0, 0, 0, 0)).save(source)
    out = np.asarray(Image.open(export_still(source, FEED, tmp_path / "w.jpg").path))
    assert out.min() > 245


def test_bad_input_is_one_line_and_writes_nothing(tmp_path: Path) -> None:
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8 not really a jpeg")
    with pytest.raises(InvalidInput, match="broken.jpg is not a picture that can be read"):
        export_still(broken, FEED, tmp_path / "out.jpg")
    with pytest.raises(InvalidInput, match="does not exist"):
        export_still(tmp_path / "gone.png", FEED, tmp_path / "out.jpg")
    with pytest.raises(InvalidInput, match="Unknown fit"):
        export_still(halves(tmp_path / "ok.png"), FEED, tmp_path / "out.jpg", fit="stretch")
    assert not (tmp_path / "out.jpg").exists()
