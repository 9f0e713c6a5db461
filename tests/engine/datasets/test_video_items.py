"""Clips as dataset items: probed, refused plainly, thumbnailed and analysed from their first
frame, with their facts in the row's quality. Clips are made by the real FFmpeg in the test."""
from __future__ import annotations

import itertools
import subprocess
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from studio.engine.core import Studio
from studio.engine.datasets.analysis import analyze_dataset
from studio.engine.datasets.autocaption import submit_autocaption
from studio.engine.datasets.importer import import_paths
from studio.engine.datasets.service import list_images
from studio.engine.datasets.video_items import (
    MAX_CLIP_SECONDS,
    ClipInfo,
    clip_frames,
    describe,
    first_frame,
    read_clip,
)
from studio.engine.db.models import Dataset
from studio.engine.jobs.runner import JobRunner
from studio.engine.jobs.status import JobStatus
from studio.engine.llm.vision import user_message
from studio.engine.media.thumbnails import SIZES, make_thumbnails, thumbnail_for, thumbnail_path
from tests.engine.datasets.clips import make_clip, rotated
from tests.fakes.openai_server import FakeOpenAI


def test_a_clip_is_read_with_its_facts_and_first_frame(ffmpeg: str, tmp_path: Path) -> None:
    clip = read_clip(make_clip(ffmpeg, tmp_path / "walk.mp4", seconds=2, fps=8).read_bytes(), ".mp4")

    assert clip.format == "MP4"
    assert clip.info == ClipInfo(duration_s=2.0, fps=8.0, frames=16, width=160, height=96,
                                 codec="h264", rotation=0)
    assert clip.frame.image.size == (160, 96) and clip.frame.format == "MP4"
    assert describe(clip.info) == "2.0 s · 8 fps · 16 frames"
    assert ClipInfo.from_quality({"clip": clip.info.to_dict(), "sharpness": 3.0}) == clip.info
    assert ClipInfo.from_quality({"sharpness": 3.0}) is None
    assert ClipInfo.from_quality({"clip": {"fps": "x"}}) is None


def test_webm_and_mov_keep_their_format_and_frames_are_counted(ffmpeg: str, tmp_path: Path) -> None:
    webm = make_clip(ffmpeg, tmp_path / "a.webm", codec=("-c:v", "libvpx-vp9", "-deadline", "realtime"))
    mov = make_clip(ffmpeg, tmp_path / "b.mov")

    read_webm = read_clip(webm.read_bytes(), ".webm")
    assert (read_webm.format, read_webm.info.codec, read_webm.info.frames) == ("WEBM", "vp9", 8)
    assert read_clip(mov.read_bytes(), ".mov").format == "MOV"
    # The format comes from the content: an MP4 named .webm is stored as MP4.
    assert read_clip(mov.read_bytes(), ".webm").format == "MP4"


def test_a_phone_clip_turned_by_its_display_matrix_is_read_upright(ffmpeg: str, tmp_path: Path) -> None:
    phone = rotated(ffmpeg, make_clip(ffmpeg, tmp_path / "flat.mp4"), tmp_path / "phone.mp4")

    clip = read_clip(phone.read_bytes(), ".mp4")

    assert clip.info.rotation == 90
    assert (clip.info.width, clip.info.height) == (96, 160)
    assert first_frame(phone, 64).size == (38, 64)
    # Turned the way FFmpeg's own player turns it.
    shown = tmp_path / "shown.png"
    subprocess.run([ffmpeg, "-v", "error", "-y", "-i", str(phone), "-frames:v", "1", str(shown)],
                   check=True, capture_output=True)
    ours = np.asarray(first_frame(phone), dtype=np.int16)
    with Image.open(shown) as theirs:
        assert np.abs(ours - np.asarray(theirs.convert("RGB"), dtype=np.int16)).mean() < 8


@pytest.mark.parametrize(("content", "reason"), [
    (b"this is a text file named like a clip\n" * 40, "not a video FFmpeg can read"),
    (b"\x00\x00\x00\x18ftypmp42" + bytes(64), "not a video FFmpeg can read"),
])
def test_hostile_bytes_are_refused_with_a_reason(content: bytes, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        read_clip(content, ".mp4")


def test_a_picture_a_sound_an_empty_and_a_cut_clip_are_refused(ffmpeg: str, tmp_path: Path) -> None:
    png = tmp_path / "still.png"
    Image.new("RGB", (32, 32), "red").save(png)
    tone = tmp_path / "tone.m4a"
    subprocess.run([ffmpeg, "-v", "error", "-y", "-f", "lavfi", "-i", "sine=duration=1", str(tone)],
                   check=True, capture_output=True)
    empty = make_clip(ffmpeg, tmp_path / "empty.mp4", codec=("-c:v", "libx264", "-frames:v", "0"))
    whole = make_clip(ffmpeg, tmp_path / "whole.mp4", codec=("-c:v", "libx264", "-movflags", "+faststart"))

    with pytest.raises(ValueError, match="not an MP4, WebM or MOV clip"):
        read_clip(png.read_bytes(), ".mp4")
    with pytest.raises(ValueError, match=r"holds no video \(a sound file"):
        read_clip(tone.read_bytes(), ".mp4")
    with pytest.raises(ValueError, match="a clip with no frames"):
        read_clip(empty.read_bytes(), ".mp4")
    with pytest.raises(ValueError, match="not a video FFmpeg can read"):  # its index, half its frames
        read_clip(whole.read_bytes()[:len(whole.read_bytes()) // 2], ".mp4")


def test_a_clip_past_the_limit_is_refused_saying_the_limit(ffmpeg: str, tmp_path: Path) -> None:
    long = make_clip(ffmpeg, tmp_path / "long.mp4", seconds=MAX_CLIP_SECONDS + 2, fps=1, size="32x32")

    with pytest.raises(ValueError, match=r"too long for training \(32\.0 s; at most 30 s\)"):
        read_clip(long.read_bytes(), ".mp4")


def test_clips_import_like_pictures_with_their_facts_thumbnails_and_captions(
        studio: Studio, dataset: Dataset, ffmpeg: str, tmp_path: Path) -> None:
    drop = tmp_path / "drop"
    make_clip(ffmpeg, drop / "walk.mp4", seconds=2)
    (drop / "walk.txt").write_text("mia walking down a street", encoding="utf-8")
    rotated(ffmpeg, make_clip(ffmpeg, tmp_path / "flat.mov"), drop / "turn.MOV")
    (drop / "notes.mp4").write_text("not a clip at all", encoding="utf-8")
    (drop / "zero.webm").write_bytes(b"")
    make_clip(ffmpeg, drop / "long.mp4", seconds=MAX_CLIP_SECONDS + 2, fps=1, size="32x32")

    report = import_paths(studio, dataset, [drop])

    reasons = {Path(row.source).name: (row.status, row.reason) for row in report.rows}
    assert reasons["walk.mp4"] == ("imported", "")
    assert reasons["turn.MOV"] == ("imported", "")
    assert reasons["notes.mp4"][0] == "refused" and "not a video FFmpeg can read" in reasons["notes.mp4"][1]
    assert reasons["zero.webm"] == ("refused", "empty file (0 bytes)")
    assert reasons["long.mp4"][0] == "refused" and "at most 30 s" in reasons["long.mp4"][1]
    images = {image.original_name: image for image in list_images(studio, dataset)}
    walk, turn = images["walk.mp4"], images["turn.MOV"]
    assert walk.storage_key.endswith(f"/{walk.sha256}.mp4") and walk.format == "MP4"
    assert turn.storage_key.endswith(f"/{turn.sha256}.mov") and turn.format == "MOV"
    assert (walk.width, walk.height, walk.caption) == (160, 96, "mia walking down a street")
    assert (turn.width, turn.height) == (96, 160)
    assert ClipInfo.from_quality(walk.quality) == ClipInfo(2.0, 8.0, 16, 160, 96, "h264", 0)
    assert walk.analyzed_at is not None and "sharpness" in walk.quality and walk.phash == ""
    for size in SIZES:
        with Image.open(thumbnail_path(studio.paths.cache_dir, turn.sha256, size)) as thumb:
            assert thumb.height == min(size, 160) > thumb.width  # upright, and never enlarged
    assert (studio.paths.assets_dir / walk.storage_key).read_bytes() == (drop / "walk.mp4").read_bytes()


def test_a_clip_in_a_zip_imports_with_its_caption(studio: Studio, dataset: Dataset, ffmpeg: str,
                                                   tmp_path: Path) -> None:
    clip = make_clip(ffmpeg, tmp_path / "jump.webm", codec=("-c:v", "libvpx-vp9", "-deadline", "realtime"))
    archive = tmp_path / "clips.zip"
    with zipfile.ZipFile(archive, "w") as out:
        out.write(clip, "moves/jump.webm")
        out.writestr("moves/jump.txt", "mia jumps")

    report = import_paths(studio, dataset, [archive])

    assert report.imported == 1 and report.refused == 0
    (image,) = list_images(studio, dataset)
    assert (image.format, image.caption) == ("WEBM", "mia jumps")
    assert ClipInfo.from_quality(image.quality) is not None


def test_the_analysis_job_and_missing_thumbnails_use_the_first_frame(
        studio: Studio, dataset: Dataset, ffmpeg: str, tmp_path: Path) -> None:
    import_paths(studio, dataset, [make_clip(ffmpeg, tmp_path / "walk.mp4")])
    (image,) = list_images(studio, dataset)
    source = studio.paths.assets_dir / image.storage_key
    for size in SIZES:
        thumbnail_path(studio.paths.cache_dir, image.sha256, size).unlink()

    made = thumbnail_for(studio.paths.cache_dir, image.sha256, source, 128)
    summary = analyze_dataset(studio, dataset, force=True)

    with Image.open(made) as thumb:
        assert thumb.size == (128, 77)
    assert summary.analyzed == 1 and summary.failed == {}
    (after,) = list_images(studio, dataset)
    assert ClipInfo.from_quality(after.quality) == ClipInfo.from_quality(image.quality)
    assert after.quality["sharpness"] > 0


def test_a_vision_model_is_shown_a_clips_first_middle_and_last_frames(ffmpeg: str, tmp_path: Path) -> None:
    clip = make_clip(ffmpeg, tmp_path / "walk.mp4", seconds=2)

    frames = clip_frames(clip)
    message = user_message("Caption this.", [clip])

    assert [f.size for f in frames] == [(160, 96)] * 3
    pixels = [np.asarray(f, dtype=np.int16) for f in frames]
    assert all(np.abs(a - b).mean() > 1 for a, b in itertools.combinations(pixels, 2))  # three moments
    assert [p["type"] for p in message["content"]] == ["text", "text", "image_url", "image_url", "image_url"]
    assert "first, middle and last frames of one short video clip" in message["content"][1]["text"]


def test_auto_caption_of_a_clip_sends_its_frames_and_saves_the_caption(
        studio: Studio, dataset: Dataset, ffmpeg: str, tmp_path: Path) -> None:
    import_paths(studio, dataset, [make_clip(ffmpeg, tmp_path / "walk.mp4")])
    (image,) = list_images(studio, dataset)
    with FakeOpenAI() as server:
        studio.settings.llm.base_url = server.base_url
        studio.secrets.set("openrouter", "test-key-clip-caption")
        server.success("mia walks along a street", cost=0.001)
        job = submit_autocaption(studio, dataset, [image.id], model="openai/gpt-4o",
                                 prompt_template="Caption {name}.")
        JobRunner(studio.db, studio.paths, studio.settings, worker_id="test")(str(job.id))

    done = studio.jobs.get(dataset.workspace_id, job.id)
    assert done.status == JobStatus.COMPLETED, done.error
    assert len(server.received[0].image_urls()) == 3
    (after,) = list_images(studio, dataset)
    assert "walks along a street" in after.caption


def test_the_thumbnail_job_takes_clips_too(ffmpeg: str, tmp_path: Path) -> None:
    clip = make_clip(ffmpeg, tmp_path / "walk.webm", codec=("-c:v", "libvpx-vp9", "-deadline", "realtime"))

    made = make_thumbnails(clip, tmp_path / "cache")

    assert [t.size for t in made] == list(SIZES)
    with Image.open(made[0].path) as thumb:
        assert thumb.size == (128, 77)


def test_clips_are_never_near_duplicates_of_their_still_or_of_each_other(
        studio: Studio, dataset: Dataset, ffmpeg: str, tmp_path: Path) -> None:
    first = make_clip(ffmpeg, tmp_path / "in" / "a.mp4", seconds=1)
    make_clip(ffmpeg, tmp_path / "in" / "b.mp4", seconds=2)  # the same first frame, longer
    still = first_frame(first)  # the still the clips start from, and a copy of it
    still.save(tmp_path / "in" / "still.png")
    still.save(tmp_path / "in" / "still-copy.jpg", quality=90)

    import_paths(studio, dataset, [tmp_path / "in"])
    summary = analyze_dataset(studio, dataset)

    groups = {i.original_name: (i.near_dup_group, i.phash) for i in list_images(studio, dataset)}
    assert groups["a.mp4"] == (None, "") and groups["b.mp4"] == (None, "")
    assert groups["still.png"][0] is not None and groups["still.png"][0] == groups["still-copy.jpg"][0]
    assert summary.near_duplicate_groups == 1


def test_a_clip_gets_no_crop_so_it_counts_in_no_bucket(studio: Studio, dataset: Dataset, ffmpeg: str,
                                                       tmp_path: Path) -> None:
    import_paths(studio, dataset, [make_clip(ffmpeg, tmp_path / "walk.mp4")])
    analyze_dataset(studio, dataset, force=True, target=768)

    (image,) = list_images(studio, dataset)
    assert image.crop is None and image.analyzed_at is not None
