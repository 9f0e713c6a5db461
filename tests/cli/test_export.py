"""``export image``: pictures framed for a platform from the command line."""
from __future__ import annotations

from pathlib import Path

from PIL import Image

from tests.cli.conftest import Cli, make_image, one_error_line


def test_one_picture_to_a_file_and_several_to_a_folder(cli: Cli, tmp_path: Path) -> None:
    one = make_image(tmp_path / "in" / "beach day.png", (1600, 900))
    two = make_image(tmp_path / "in" / "café, 'noon'.jpg", (900, 1600))
    result = cli("export", "image", str(one), "--preset", "instagram-feed-4x5",
                 "--out", str(tmp_path / "out" / "post.jpg"))
    assert result.code == 0, result.err
    assert Image.open(tmp_path / "out" / "post.jpg").size == (1080, 1350)
    assert result.out.strip() == f"{tmp_path / 'out' / 'post.jpg'} (1080×1350)"

    folder = tmp_path / "story"
    result = cli("export", "image", str(one), str(two), "--preset", "instagram-reel", "--fit", "blur",
                 "--out", str(folder), "--json")
    assert result.code == 0, result.err
    rows = result.json()
    assert [Path(r["path"]).name for r in rows] == ["beach day-instagram-reel.jpg",
                                                    "café, 'noon'-instagram-reel.jpg"]
    assert all(Image.open(r["path"]).size == (1080, 1920) for r in rows)
    assert not any(r["metadata_kept"] for r in rows)


def test_mistakes_are_one_line(cli: Cli, tmp_path: Path) -> None:
    picture = make_image(tmp_path / "a.png")
    result = cli("export", "image", str(picture), "--preset", "myspace", "--out", str(tmp_path))
    assert result.code == 2
    assert one_error_line(result.err).startswith("error: There is no preset 'myspace'; there are: ")
    result = cli("export", "image", str(picture), str(picture), "--preset", "tiktok",
                 "--out", str(tmp_path / "x.jpg"))
    assert result.code == 2 and "need a folder" in one_error_line(result.err)
    result = cli("export", "image", str(tmp_path / "nope.png"), "--preset", "tiktok", "--out", str(tmp_path))
    assert result.code == 2 and one_error_line(result.err).endswith("does not exist or is not a file.")
    result = cli("export", "image", str(picture), "--preset", "tiktok", "--focus", "left",
                 "--out", str(tmp_path))
    assert result.code == 2 and "--focus takes X,Y" in one_error_line(result.err)


def test_a_picture_past_the_image_limits_is_one_plain_line(cli: Cli, tmp_path: Path) -> None:
    from tests.engine.datasets.corpus import png_bomb
    bomb = png_bomb(tmp_path / "bomb.png")  # claims 30000×30000 in a few hundred bytes
    result = cli("export", "image", str(bomb), "--preset", "tiktok", "--out", str(tmp_path / "out"))
    assert result.code == 2
    assert one_error_line(result.err) == (
        "error: bomb.png is not exported: too many pixels (900000000; more than 178 million): "
        "refused as a possible decompression bomb.")
    wide = png_bomb(tmp_path / "wide.png", side=13_000)  # within the pixels, not the memory
    result = cli("export", "image", str(wide), "--preset", "tiktok", "--out", str(tmp_path / "out"))
    assert result.code == 2 and one_error_line(result.err).endswith(
        "too large to decode (13000×13000 pixels take 645 MB in memory; at most 256 MB).")
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
