"""Clips in the training export: copied (or turned upright) with their captions beside them, and
listed with frames, fps and size for musubi-tuner's video dataset config."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from studio.engine.core import Studio
from studio.engine.datasets.export import export_kohya
from studio.engine.datasets.importer import import_paths
from studio.engine.datasets.video_export import VideoEntry, video_entries, write_clip
from studio.engine.datasets.video_items import clip_rotation
from studio.engine.db.models import Dataset
from studio.engine.errors import InvalidInput
from studio.engine.media.probe import probe
from tests.engine.datasets.clips import make_clip, rotated
from tests.engine.datasets.corpus import jpeg_bytes, noise


def test_a_clip_is_copied_byte_for_byte(studio: Studio, ffmpeg: str, tmp_path: Path) -> None:
    source = make_clip(ffmpeg, tmp_path / "walk.MOV")
    (tmp_path / "out").mkdir()

    name = write_clip(studio.settings, source, tmp_path / "out" / "0001_abc")

    assert name == "0001_abc.mov"
    assert (tmp_path / "out" / name).read_bytes() == source.read_bytes()


def test_a_rotated_clip_is_turned_upright_the_same_way_each_time(studio: Studio, ffmpeg: str,
                                                                  tmp_path: Path) -> None:
    phone = rotated(ffmpeg, make_clip(ffmpeg, tmp_path / "flat.mp4"), tmp_path / "phone.mov")
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()

    first = write_clip(studio.settings, phone, tmp_path / "a" / "0001")
    second = write_clip(studio.settings, phone, tmp_path / "b" / "0001")

    assert first == second == "0001.mp4"
    info = probe(tmp_path / "a" / first)
    assert info.video is not None and info.audio is None
    assert (info.video.width, info.video.height) == (96, 160)
    assert clip_rotation(tmp_path / "a" / first) == 0
    assert (tmp_path / "a" / first).read_bytes() == (tmp_path / "b" / second).read_bytes()


def test_a_damaged_original_is_named_in_one_line(studio: Studio, tmp_path: Path) -> None:
    broken = tmp_path / "broken.mp4"
    broken.write_text("not a clip", encoding="utf-8")

    with pytest.raises(InvalidInput, match=r"^broken\.mp4 cannot be read for export: [^\n]+$"):
        write_clip(studio.settings, broken, tmp_path / "0001")


def test_the_export_holds_clips_with_captions_and_lists_them_for_musubi(
        studio: Studio, dataset: Dataset, ffmpeg: str, tmp_path: Path) -> None:
    drop = tmp_path / "drop"
    make_clip(ffmpeg, drop / "a_walk.mp4", seconds=2)
    (drop / "a_walk.txt").write_text("mia walks\nslowly", encoding="utf-8")
    rotated(ffmpeg, make_clip(ffmpeg, tmp_path / "flat.mp4", fps=10), drop / "b_turn.mov")
    (drop / "c_face.jpg").write_bytes(jpeg_bytes(noise(seed=3)))
    assert import_paths(studio, dataset, [drop]).imported == 3

    result = export_kohya(studio, dataset, tmp_path / "out")

    files = sorted(p.relative_to(result.image_dir).as_posix() for p in result.image_dir.iterdir())
    assert [f.split("_", 1)[0] + Path(f).suffix for f in files] == [
        "0001.mp4", "0001.txt", "0002.mp4", "0003.jpg"]
    clip = next(result.image_dir.glob("0001_*.mp4"))
    assert clip.read_bytes() == (drop / "a_walk.mp4").read_bytes()
    assert clip.with_suffix(".txt").read_text(encoding="utf-8") == "mia walks slowly"
    manifest = json.loads(result.manifest_file.read_text(encoding="utf-8"))
    assert {f"img/{result.image_dir.name}/{f}" for f in files} <= set(manifest["files"])
    turned = next(result.image_dir.glob("0002_*.mp4"))
    assert video_entries(result.out_dir) == [
        VideoEntry(path=clip, frames=16, fps=8.0, width=160, height=96),
        VideoEntry(path=turned, frames=10, fps=10.0, width=96, height=160)]


def test_an_export_without_clips_lists_none_and_a_broken_one_says_which(tmp_path: Path) -> None:
    folder = tmp_path / "img" / "10_mia"
    folder.mkdir(parents=True)
    (folder / "0001.jpg").write_bytes(jpeg_bytes(noise(seed=1)))
    assert video_entries(tmp_path) == []

    (folder / "0002.webm").write_bytes(b"\x1aE\xdf\xa3 cut short")
    with pytest.raises(InvalidInput, match=r"^The exported clip 0002\.webm cannot be read: "):
        video_entries(tmp_path)
