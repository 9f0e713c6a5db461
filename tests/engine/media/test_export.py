"""Exports through the real FFmpeg, checked by probing and measuring what comes out."""
from __future__ import annotations

import dataclasses
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from studio.engine.config import Settings
from studio.engine.errors import InvalidInput
from studio.engine.media.export import export_video
from studio.engine.media.finishing import Finish
from studio.engine.media.loudness import ebur128_argv, integrated_loudness
from studio.engine.media.presets import ExportPreset, load_presets
from studio.engine.media.probe import probe
from studio.engine.media.subtitles import Cue, SubtitleStyle, write_srt
from tests.engine.media.conftest import ODD, frame_at, make_clip

PRESETS = load_presets()
FAST = "veryfast"  # x264 speed for tests; the profile stays High


def loudness_of(ffmpeg: str, path: Path) -> float:
    done = subprocess.run(ebur128_argv(ffmpeg, path), capture_output=True, text=True, check=True)
    return integrated_loudness(done.stderr)


def test_there_are_the_six_platform_presets() -> None:
    assert set(PRESETS) == {"instagram-reel", "instagram-feed-4x5", "instagram-feed-1x1",
                            "tiktok", "youtube-shorts", "youtube-16x9"}
    sizes = {slug: (p.width, p.height) for slug, p in PRESETS.items()}
    assert sizes["instagram-reel"] == sizes["tiktok"] == sizes["youtube-shorts"] == (1080, 1920)
    assert sizes["instagram-feed-4x5"] == (1080, 1350)
    assert sizes["instagram-feed-1x1"] == (1080, 1080)
    assert sizes["youtube-16x9"] == (1920, 1080)


@pytest.mark.parametrize("slug", sorted(PRESETS))
def test_each_preset_makes_what_the_platform_takes(slug: str, clips: dict[str, Path],
                                                   ffmpeg: str, tmp_path: Path) -> None:
    preset = PRESETS[slug]
    out = tmp_path / f"{slug}.mp4"
    steps: list[tuple[float, str]] = []
    result = export_video(Settings(), [clips["sound"]], preset, Finish(speed=FAST), out,
                          on_progress=lambda f, stage, _m: steps.append((f, stage)))
    info = probe(out)
    assert info == result.info
    assert info.video is not None and info.audio is not None
    assert (info.video.width, info.video.height) == (preset.width, preset.height)
    assert info.aspect == pytest.approx(preset.width / preset.height)
    assert (info.video.codec, info.video.profile, info.video.pix_fmt) == ("h264", "High", "yuv420p")
    assert info.video.fps == pytest.approx(preset.fps)
    expected = max(2.0, preset.min_duration_s)  # the 2 s clip, held to the platform's minimum
    assert info.duration_s == pytest.approx(expected, abs=0.05)
    assert info.duration_s <= preset.max_duration_s
    assert (info.audio.codec, info.audio.sample_rate, info.audio.channels) == ("aac", 48000, 2)
    assert info.faststart is True  # moov before mdat
    assert abs(loudness_of(ffmpeg, out) - (-14.0)) <= 1.0
    assert result.loudness is not None and result.loudness["normalization_type"] in ("linear", "dynamic")
    fractions = [f for f, _ in steps]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert {"Measuring loudness", "Encoding"} <= {stage for _, stage in steps}


def test_too_long_is_trimmed_or_refused(clips: dict[str, Path], tmp_path: Path) -> None:
    short = dataclasses.replace(PRESETS["youtube-shorts"], max_duration_s=1.0, min_duration_s=0)
    out = tmp_path / "trimmed.mp4"
    result = export_video(Settings(), [clips["sound"]], short, Finish(speed=FAST, loudness=None), out)
    assert result.info.duration_s == pytest.approx(1.0, abs=0.05)
    assert any("trimmed to 1 s" in note for note in result.plan.notes)
    refused = tmp_path / "refused.mp4"
    with pytest.raises(InvalidInput, match=r"runs 2.0 s; .* at most 1 s"):
        export_video(Settings(), [clips["sound"]], short, Finish(over_length="refuse"), refused)
    assert not refused.exists()


def test_a_silent_clip_gets_a_silent_track_where_the_platform_wants_one(
        clips: dict[str, Path], tmp_path: Path) -> None:
    reel = export_video(Settings(), [clips["silent"]], PRESETS["instagram-reel"],
                        Finish(speed=FAST), tmp_path / "reel.mp4")
    assert reel.info.audio is not None and reel.info.audio.sample_rate == 48000
    assert "a silent sound track was added" in reel.plan.notes
    assert reel.loudness is None  # nothing to normalise in silence
    landscape = dataclasses.replace(PRESETS["youtube-16x9"], width=320, height=180)
    plain = export_video(Settings(), [clips["silent"]], landscape, Finish(speed=FAST),
                         tmp_path / "plain.mp4")
    assert plain.info.audio is None and plain.info.video is not None


def test_a_still_image_and_a_song_become_a_video(clips: dict[str, Path], tmp_path: Path,
                                                  ffmpeg: str) -> None:
    square = dataclasses.replace(PRESETS["instagram-feed-1x1"], width=360, height=360,
                                 min_duration_s=0)
    result = export_video(Settings(), [clips["still"]], square,
                          Finish(soundtrack=clips["tone"], speed=FAST), tmp_path / "still.mp4")
    info = result.info
    assert info.video is not None and info.audio is not None
    assert (info.video.width, info.video.height) == (360, 360)
    assert info.duration_s == pytest.approx(1.5, abs=0.05)  # as long as the song
    assert abs(loudness_of(ffmpeg, tmp_path / "still.mp4") + 14.0) <= 1.0


def test_clips_are_joined_in_order(clips: dict[str, Path], tmp_path: Path) -> None:
    small = dataclasses.replace(PRESETS["tiktok"], width=180, height=320, min_duration_s=0)
    result = export_video(Settings(), [clips["sound"], clips["silent"], clips["still"]], small,
                          Finish(speed=FAST, still_s=0.5, fit="blur"), tmp_path / "joined.mp4")
    assert result.info.duration_s == pytest.approx(2.0 + 1.0 + 0.5, abs=0.08)
    assert result.info.audio is not None
    assert result.info.video is not None and result.info.video.frames == pytest.approx(105, abs=2)


def test_subtitles_are_burned_in_and_odd_paths_survive(clips: dict[str, Path], tmp_path: Path) -> None:
    odd = tmp_path / ODD
    odd.mkdir()
    source = odd / "clip, 'one': ü.mp4"
    shutil.copyfile(clips["sound"], source)
    srt = write_srt([Cue(0.0, 2.0, "Hello, wörld: it's [burned]")], odd / "sub's, [x]: é.srt")
    preset = dataclasses.replace(PRESETS["tiktok"], width=360, height=640, min_duration_s=0)
    style = SubtitleStyle(size_px=40, outline_px=2)
    plain = export_video(Settings(), [source], preset, Finish(speed=FAST, loudness=None),
                         odd / "plain 'out': [1].mp4")
    burned = export_video(Settings(), [source], preset,
                          Finish(speed=FAST, loudness=None, subtitles=srt, style=style),
                          odd / "subbed 'out': [2].mp4")
    assert burned.output.is_file() and plain.output.is_file()
    a, b = frame_at(plain.output, 1.0).astype(int), frame_at(burned.output, 1.0).astype(int)
    area = preset.safe_area
    line_bottom = int(640 * (1 - area.bottom)) - 16  # the text sits on the safe area's edge
    in_band = np.abs(a[line_bottom - 60:line_bottom] - b[line_bottom - 60:line_bottom]).mean()
    above = np.abs(a[: line_bottom - 120] - b[: line_bottom - 120]).mean()
    assert in_band > 10, in_band  # white text with a black outline over the pattern
    assert above < 2, above  # nothing else changed


def test_crop_focus_moves_the_window(clips: dict[str, Path], tmp_path: Path) -> None:
    tall = dataclasses.replace(PRESETS["tiktok"], width=90, height=240, min_duration_s=0)
    left = export_video(Settings(), [clips["sound"]], tall,
                        Finish(speed=FAST, loudness=None, focus=(0.0, 0.5)), tmp_path / "l.mp4")
    right = export_video(Settings(), [clips["sound"]], tall,
                         Finish(speed=FAST, loudness=None, focus=(1.0, 0.5)), tmp_path / "r.mp4")
    # testsrc2's colour bars run red (left edge) to cyan-ish (right edge)
    l_frame, r_frame = frame_at(left.output, 0.5), frame_at(right.output, 0.5)
    assert l_frame[120, 45, 0] > l_frame[120, 45, 2] + 80  # red dominates on the left
    assert not np.array_equal(l_frame, r_frame)


def test_bad_requests_are_one_sentence(clips: dict[str, Path], tmp_path: Path, ffmpeg: str) -> None:
    preset: ExportPreset = PRESETS["tiktok"]
    with pytest.raises(InvalidInput, match="does not exist"):
        export_video(Settings(), [tmp_path / "nope.mp4"], preset, Finish(), tmp_path / "o.mp4")
    with pytest.raises(InvalidInput, match=r"\.mp4 file"):
        export_video(Settings(), [clips["sound"]], preset, Finish(), tmp_path / "o.avi")
    with pytest.raises(InvalidInput, match="overwrite its own input"):
        export_video(Settings(), [clips["sound"]], preset, Finish(), clips["sound"])
    with pytest.raises(InvalidInput, match="fit must be one of crop, blur"):
        Finish(fit="stretch")
    bad_srt = tmp_path / "bad.srt"
    bad_srt.write_text("this is not subrip\n")
    with pytest.raises(InvalidInput, match="bad.srt"):
        export_video(Settings(), [clips["sound"]], preset, Finish(subtitles=bad_srt),
                     tmp_path / "o.mp4")
    noise = make_clip(ffmpeg, tmp_path / "x.mp4", audio=False, seconds=0.2)
    with pytest.raises(InvalidInput, match="no sound"):
        export_video(Settings(), [noise], preset, Finish(soundtrack=noise), tmp_path / "o.mp4")
    assert not (tmp_path / "o.mp4").exists()
