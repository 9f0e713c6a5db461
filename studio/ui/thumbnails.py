"""Thumbnails for big grids: decoded off the UI thread, kept in a bounded memory LRU.

    cache = ThumbnailCache(studio.paths.cache_dir)
    image = cache.request(sha256, 128, source_path)   # a QImage, or None and a load is queued
    cache.thumbnail_ready.connect(...)                 # (sha256, size) once it is in memory

The disk cache is the engine's (``thumbnail_path``, keyed by content hash); a missing file is
made from the original on the loader thread. Requests are served newest first and the queue is
bounded, so a fast scroll does not leave a backlog of rows nobody looks at any more.
"""
from __future__ import annotations

import functools
import os
import sys
import threading
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import shiboken6
from PIL import Image, ImageOps
from PySide6.QtCore import QObject, QRunnable, Qt, QThread, QThreadPool, Signal, Slot
from PySide6.QtGui import QImage

from studio.engine.datasets.video_items import first_frame, is_clip_name
from studio.engine.media import thumbnails as engine_thumbnails

if TYPE_CHECKING:
    from studio.engine.core import Studio

DISK_SIZES = (128, 256)
CAPACITY = 2_000
MAX_BYTES = 160 * 1024 * 1024  # decoded pixels kept: 2,000 at 128 px, about 650 at 256 px
MAX_QUEUE = 600
THREADS = 2
LOADER_NICE = 10
Key = tuple[str, int]

_fetchers: dict[Path, Callable[[Path], bool]] = {}  # by asset folder; team mode only


def use_team_assets(studio: Studio) -> None:
    """Team mode: thumbnails and previews of asset files this machine lacks fetch them from
    the server's bucket first (on the loader threads). Solo mode: nothing changes."""
    fetcher = None
    if studio.settings.server.s3_endpoint:  # boto3 is loaded only for a studio with a server
        from studio.engine.server.assets import on_demand_assets
        fetcher = on_demand_assets(studio.settings, studio.paths, studio.secrets)
    if fetcher is None:
        _fetchers.pop(studio.paths.assets_dir, None)
    else:
        _fetchers[studio.paths.assets_dir] = fetcher.ensure


def _ensure_source(source: Path) -> None:
    """Blocking: a missing asset file fetched from the server where a studio registered one."""
    if _fetchers and not source.is_file():
        for fetch in list(_fetchers.values()):
            if fetch(source):
                return


@functools.cache
def pool() -> QThreadPool:
    """One pool for decoding, made on first use (after the QApplication exists)."""
    threads = QThreadPool()
    threads.setMaxThreadCount(THREADS)
    return threads


def wait_until_idle(timeout_ms: int = 30_000) -> bool:
    """For the end of the app, tests and benchmarks only."""
    return pool.cache_info().currsize == 0 or pool().waitForDone(timeout_ms)


def drop_queued() -> None:
    """At quit: decodes not yet started are forgotten (a grid may have queued hundreds)."""
    if pool.cache_info().currsize:
        pool().clear()


def disk_size(shown: int) -> int:
    """The smallest cached size that is at least as big as what is shown."""
    return next((s for s in DISK_SIZES if s >= shown), DISK_SIZES[-1])


def load_thumbnail(cache_dir: Path, sha256: str, size: int, source: Path) -> QImage:
    """Blocking: the cached PNG, made first when missing. Raises ValueError with a reason."""
    path = engine_thumbnails.thumbnail_path(cache_dir, sha256, size)
    if not path.is_file():
        _ensure_source(source)
        make = getattr(engine_thumbnails, "thumbnail_for", None)
        if make is not None:
            path = make(cache_dir, sha256, source, size)
        else:
            engine_thumbnails.make_thumbnails(source, cache_dir, (size,))
    try:
        with Image.open(path) as opened:
            opened.load()  # Pillow lets go of the GIL while it decodes; QImage(path) does not
            return to_qimage(opened)
    except (OSError, SyntaxError) as exc:
        raise ValueError(f"cannot read the thumbnail of {source.name} ({exc})") from None


def to_qimage(image: Image.Image) -> QImage:
    """A QImage that owns a copy of the pixels (safe to hand to another thread)."""
    if image.mode not in ("RGB", "RGBA"):
        image = image.convert("RGBA" if "A" in image.getbands() or "transparency" in image.info else "RGB")
    rgba = image.mode == "RGBA"
    fmt = QImage.Format.Format_RGBA8888 if rgba else QImage.Format.Format_RGB888
    data = image.tobytes()
    # In the format the raster painter draws straight from (it would convert at every paint).
    painted = QImage.Format.Format_ARGB32_Premultiplied if rgba else QImage.Format.Format_RGB32
    return QImage(data, image.width, image.height, image.width * (4 if rgba else 3), fmt).convertToFormat(painted)


def load_preview(source: Path, max_side: int) -> QImage:
    """Blocking: the original, oriented like the engine sees it, at most ``max_side`` pixels
    (a clip's first frame, upright)."""
    _ensure_source(source)
    if is_clip_name(source.name):
        return to_qimage(first_frame(source, max_side))
    with Image.open(source) as opened:
        opened.draft("RGB", (max_side, max_side))  # JPEG decodes at reduced size
        image = ImageOps.exif_transpose(opened)
        image.thumbnail((max_side, max_side), Image.Resampling.BILINEAR)
        return to_qimage(image)


class _Bridge(QObject):
    """Carries results from loader threads to the UI thread; one per cache, freed with it."""

    decoded = Signal(object, object, object)  # key, QImage | None, error text | None


class ThumbnailCache(QObject):
    thumbnail_ready = Signal(str, int)
    thumbnail_failed = Signal(str, int, str)

    def __init__(self, cache_dir: Path, *, capacity: int = CAPACITY, max_bytes: int = MAX_BYTES,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.cache_dir = cache_dir
        self.capacity = capacity
        self.max_bytes = max_bytes
        self._bytes = 0
        self._images: OrderedDict[Key, QImage] = OrderedDict()
        self._failed: dict[Key, str] = {}
        self._lock = threading.Lock()
        self._queue: OrderedDict[Key, Path] = OrderedDict()  # guarded by _lock
        self._busy: set[Key] = set()  # guarded by _lock
        self._workers = 0  # guarded by _lock
        self._bridge = _Bridge()
        self._bridge.decoded.connect(self._on_decoded, Qt.ConnectionType.QueuedConnection)
        self.decoded_count = 0

    # The UI thread's side ----------------------------------------------------------------------

    def get(self, sha256: str, size: int) -> QImage | None:
        image = self._images.get((sha256, size))
        if image is not None:
            self._images.move_to_end((sha256, size))
        return image

    def failed(self, sha256: str, size: int) -> str | None:
        return self._failed.get((sha256, size))

    def request(self, sha256: str, size: int, source: Path) -> QImage | None:
        """The image when it is in memory; otherwise queues a load and answers None at once."""
        image = self.get(sha256, size)
        if image is not None or (sha256, size) in self._failed:
            return image
        key = (sha256, size)
        with self._lock:
            if key in self._busy:
                return None
            self._queue[key] = source
            self._queue.move_to_end(key)
            while len(self._queue) > MAX_QUEUE:
                self._queue.popitem(last=False)
            start = self._workers < THREADS
            if start:
                self._workers += 1
        if start:
            pool().start(_Loader(self))
        return None

    def pending(self) -> int:
        with self._lock:
            return len(self._queue) + len(self._busy)

    def __len__(self) -> int:
        return len(self._images)

    def memory_bytes(self) -> int:
        """Bytes of decoded pixels held (bounded by ``max_bytes``)."""
        return self._bytes

    def forget_queue(self) -> None:
        """Drops what is queued (the dataset changed); loads under way still land."""
        with self._lock:
            self._queue.clear()

    @Slot(object, object, object)
    def _on_decoded(self, key: Key, image: QImage | None, error: str | None) -> None:
        if not shiboken6.isValid(self):
            return
        if image is None:
            self._failed[key] = error or "cannot be shown"
            self.thumbnail_failed.emit(key[0], key[1], self._failed[key])
            return
        old = self._images.pop(key, None)
        self._bytes += image.sizeInBytes() - (old.sizeInBytes() if old is not None else 0)
        self._images[key] = image
        while len(self._images) > self.capacity or (self._bytes > self.max_bytes and len(self._images) > 1):
            self._bytes -= self._images.popitem(last=False)[1].sizeInBytes()
        self.decoded_count += 1
        self.thumbnail_ready.emit(key[0], key[1])

    # The loader threads' side -----------------------------------------------------------------

    def _next(self) -> tuple[Key, Path] | None:
        with self._lock:
            if not self._queue:
                self._workers -= 1
                return None
            key, source = self._queue.popitem(last=True)  # newest first: what is on screen now
            self._busy.add(key)
            return key, source

    def _done(self, key: Key) -> None:
        with self._lock:
            self._busy.discard(key)


_lowered = threading.local()


def _lower_priority() -> None:
    """Decoding yields to the UI thread when the CPUs are busy: a nicer thread on Linux (where
    Qt's thread priorities do nothing for normal threads), Qt's low priority elsewhere."""
    if getattr(_lowered, "done", False):
        return
    _lowered.done = True
    if sys.platform.startswith("linux"):
        try:
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), LOADER_NICE)
        except OSError:
            pass
    else:
        QThread.currentThread().setPriority(QThread.Priority.LowPriority)


class _Loader(QRunnable):
    def __init__(self, cache: ThumbnailCache) -> None:
        super().__init__()
        self._cache = cache
        self._bridge = cache._bridge
        self._cache_dir = cache.cache_dir

    def run(self) -> None:
        _lower_priority()
        while (job := self._cache._next()) is not None:
            key, source = job
            try:
                image: QImage | None = load_thumbnail(self._cache_dir, key[0], key[1], source)
                error = None
            except (ValueError, OSError) as exc:
                image, error = None, str(exc) or type(exc).__name__
            self._cache._done(key)
            self._bridge.decoded.emit(key, image, error)
