"""Probing real files made by FFmpeg."""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from studio.engine.errors import InvalidInput
from studio.engine.media.probe import moov_before_mdat, probe


def test_a_clip(clips: dict[str, Path]) -> None:
    info = probe(clips["sound"])
    assert info.video is not None and info.audio is not None
    assert (info.video.codec, info.video.width, info.video.height) == ("h264", 320, 240)
    assert info.video.fps == 25 and info.video.frames == 50 and info.video.pix_fmt == "yuv420p"
    assert info.duration_s == pytest.approx(2.0, abs=0.05)
    assert info.audio.codec == "aac" and info.audio.sample_rate == 44100
    assert info.aspect == pytest.approx(4 / 3) and not info.is_still
    assert info.faststart is False  # FFmpeg writes moov at the end unless asked
    assert info.as_dict()["video"]["width"] == 320


def test_still_sound_and_silence(clips: dict[str, Path]) -> None:
    still = probe(clips["still"])
    assert still.is_still and still.duration_s == 0 and still.video is not None
    assert (still.video.width, still.video.height) == (400, 300) and still.faststart is None
    tone = probe(clips["tone"])
    assert tone.video is None and tone.audio is not None and tone.duration_s == pytest.approx(1.5)
    assert probe(clips["silent"]).audio is None


def test_faststart_is_read_from_the_boxes(clips: dict[str, Path], ffmpeg: str, tmp_path: Path) -> None:
    moved = tmp_path / "fast.mp4"
    subprocess.run([ffmpeg, "-v", "error", "-i", str(clips["sound"]), "-c", "copy",
                    "-movflags", "+faststart", str(moved)], check=True)
    assert moov_before_mdat(moved) is True and probe(moved).faststart is True
    assert moov_before_mdat(clips["sound"]) is False
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"\x00\x00\x00\x02xxxx" + bytes(32))
    assert moov_before_mdat(junk) is None


def test_not_media(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="does not exist"):
        probe(tmp_path / "missing.mp4")
    text = tmp_path / "notes.mp4"
    text.write_bytes(b"\x00\x01 not a video at all" * 10)
    with pytest.raises(InvalidInput, match="notes.mp4 is not a video, image or sound file"):
        probe(text)


def test_a_phone_clip_turned_by_its_display_matrix_shows_upright(clips: dict[str, Path], ffmpeg: str,
                                                                tmp_path: Path) -> None:
    turned = tmp_path / "portrait.mp4"
    subprocess.run([ffmpeg, "-y", "-loglevel", "error", "-display_rotation", "90", "-i",
                    str(clips["silent"]), "-c", "copy", str(turned)], check=True)
    plain, phone = probe(clips["silent"]).video, probe(turned).video
    assert plain is not None and phone is not None
    assert plain.rotation == 0 and phone.rotation == 270  # the matrix turns 90° counter-clockwise
    assert phone.display_size == (plain.height, plain.width)
