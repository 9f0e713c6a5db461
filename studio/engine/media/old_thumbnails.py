"""Thumbnails in the cache's first format, ``<sha>-<size>.png``: since opaque thumbnails became
JPEGs (issue 21) the cache's files are ``<sha>-<size>.thumb`` and nothing reads the old ones. A
creator's cache of 5,000 photos held about 550 MB of them. The worker removes them once, on a
thread of its own as it starts; a marker in the cache says it is done, so later starts do not
list the cache again.
"""
from __future__ import annotations

import logging
import threading
from pathlib import Path

from studio.engine.media.thumbnails import FOLDER

log = logging.getLogger("studio.media")
DONE = ".old-thumbnails-removed"  # in the cache's thumbnails folder


def remove_old_thumbnails(cache_dir: Path) -> int:
    """Removes the old-format files under ``cache_dir``'s thumbnails; how many went. The marker
    is written only when none is left (a file that could not be removed is tried next time)."""
    folder = cache_dir / FOLDER
    if not folder.is_dir() or (folder / DONE).exists():
        return 0
    removed, left = 0, 0
    for path in folder.glob("??/*-*.png"):
        try:
            path.unlink()
            removed += 1
        except FileNotFoundError:
            pass
        except OSError as exc:
            left += 1
            log.warning("old thumbnail %s left: %s", path, exc)
    if not left:
        try:
            (folder / DONE).touch()
        except OSError as exc:  # a read-only cache: the files went or stay; tried again next start
            log.warning("could not mark the old thumbnails removed: %s", exc)
    if removed:
        log.info("removed %d old thumbnail files", removed)
    return removed


def remove_old_thumbnails_in_background(cache_dir: Path) -> None:
    """``remove_old_thumbnails`` on a daemon thread: a large cache takes seconds to list."""
    threading.Thread(target=_remove_quietly, args=(cache_dir,), name="old-thumbnails", daemon=True).start()


def _remove_quietly(cache_dir: Path) -> None:
    try:
        remove_old_thumbnails(cache_dir)
    except OSError as exc:  # the cache folder itself unreadable: the thumbnails still work
        log.warning("old thumbnails not removed: %s", exc)
