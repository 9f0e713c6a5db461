"""The cache's old-format thumbnails (``<sha>-<size>.png``) are removed once: the current files
and anything else in the cache stay, and a marker spares later starts the listing."""
from __future__ import annotations

from pathlib import Path

from studio.engine.media.old_thumbnails import DONE, remove_old_thumbnails
from studio.engine.media.thumbnails import thumbnail_path

SHA = "ab" + "0" * 62


def _old(cache: Path, sha: str, size: int) -> Path:
    path = cache / "thumbnails" / sha[:2] / f"{sha}-{size}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"old")
    return path


def test_old_thumbnails_go_and_the_current_ones_stay(tmp_path: Path) -> None:
    olds = [_old(tmp_path, SHA, 128), _old(tmp_path, SHA, 256), _old(tmp_path, "cd" + "1" * 62, 256)]
    current = thumbnail_path(tmp_path, SHA, 256)
    current.write_bytes(b"jpeg")
    other = tmp_path / "thumbnails" / "notes.png"  # not in a hash's folder: not the cache's
    other.write_bytes(b"x")
    assert remove_old_thumbnails(tmp_path) == 3
    assert not any(p.exists() for p in olds)
    assert current.read_bytes() == b"jpeg" and other.exists()
    assert (tmp_path / "thumbnails" / DONE).exists()


def test_once_done_the_cache_is_not_listed_again(tmp_path: Path) -> None:
    _old(tmp_path, SHA, 128)
    assert remove_old_thumbnails(tmp_path) == 1
    late = _old(tmp_path, SHA, 256)  # only a version before the change wrote these
    assert remove_old_thumbnails(tmp_path) == 0 and late.exists()


def test_a_cache_not_made_yet_is_left_alone(tmp_path: Path) -> None:
    assert remove_old_thumbnails(tmp_path / "cache") == 0
    assert not (tmp_path / "cache").exists()
