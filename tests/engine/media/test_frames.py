"""Image sequences into clips and cover frames out of them."""
from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from studio.engine.config import Settings
from studio.engine.errors import InvalidInput
from studio.engine.media.frames import assemble_frames, cover_frame
from studio.engine.media.probe import probe
from tests.engine.media.conftest import ODD


def test_frames_become_a_clip_in_order(tmp_path: Path) -> None:
    folder = tmp_path / ODD / "100% frames"
    folder.mkdir(parents=True)
    frames = []
    for index in range(12):
        path = folder / f"frame {index:02d}.png"
        Image.new("RGB", (63, 47), (index * 20, 80, 200 - index * 10)).save(path)
        frames.append(path)
    out = assemble_frames(Settings(), frames, 6, folder / "clip: 'x'.mp4")
    info = probe(out)
    assert info.video is not None and info.video.codec == "h264"
    assert (info.video.width, info.video.height) == (62, 46)  # even, as yuv420p needs
    assert info.video.frames == 12 and info.duration_s == pytest.approx(2.0, abs=0.05)
    with pytest.raises(InvalidInput, match="PNG, JPEG or WebP images of one kind"):
        assemble_frames(Settings(), [frames[0], tmp_path / "x.gif"], 6, tmp_path / "o.mp4")
    with pytest.raises(InvalidInput, match="no frames"):
        assemble_frames(Settings(), [], 6, tmp_path / "o.mp4")


def test_cover_frame_by_time(clips: dict[str, Path], tmp_path: Path) -> None:
    out = cover_frame(Settings(), clips["sound"], 1.0, tmp_path / ODD / "cover 'a'.jpg")
    with Image.open(out) as image:
        assert image.format == "JPEG" and image.size == (320, 240)
    late = cover_frame(Settings(), clips["sound"], 99.0, tmp_path / "late.jpg", width=160)
    with Image.open(late) as image:
        assert image.size == (160, 120)  # past the end: the last frame
    with pytest.raises(InvalidInput, match=r"\.jpg file"):
        cover_frame(Settings(), clips["sound"], 1.0, tmp_path / "cover.png")
