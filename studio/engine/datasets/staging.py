"""A file being imported, copied once into the store's folder under a temporary name as it is
hashed: what a worker decodes and what is kept are then the very bytes that were hashed, whatever
becomes of the source (a zip member has no path of its own, a file may change while it waits).

The copy replaces sending each file's bytes through a pipe to a worker and writing them again
from here: the worker reads the staged file, both around the page cache (see ``direct_io``), and
keeping it is a flush and a rename. Contents the dataset holds already are hashed and not copied, so a re-import stays a
read. Staged files not kept (refused, a copy within the import, a cancel) are removed; those
a killed import left in the dataset's ``.staging`` folder are removed by a later import.
"""
from __future__ import annotations

import hashlib
import os
import time
from dataclasses import dataclass
from pathlib import Path

from studio.engine.datasets.direct_io import write_all
from studio.engine.datasets.sources import Entry
from studio.engine.fsutil import new_file_mode, new_temp_file

STAGING = ".staging"  # beside the originals: the same disk, so keeping one is a rename
STALE_AFTER = 24 * 3600  # s; an import keeps a staged file for seconds, a killed one forever


@dataclass(frozen=True, slots=True)
class Staged:
    """A file's content: its hash, and where its bytes wait to be decoded and kept (None when
    the dataset holds this content already: nothing was copied)."""

    sha256: str
    path: Path | None


class Staging:
    """The staged files of one import, in a folder beside its originals (``originals``)."""

    def __init__(self, originals: Path, known: set[str]) -> None:
        self.folder, self.known = originals / STAGING, known
        self.mode = new_file_mode()
        self.live: set[Path] = set()  # staged and neither kept nor dropped yet
        self._sweep()

    def stage(self, entry: Entry) -> Staged:
        """Reads the entry (ValueError with the reason it cannot be) and copies its bytes here
        unless the dataset holds them; a full disk raises OSError."""
        assert entry.read is not None
        data = entry.read()
        sha = hashlib.sha256(data).hexdigest()  # hashlib lets go of the GIL on large data
        if sha in self.known:
            return Staged(sha, None)
        self.folder.mkdir(parents=True, exist_ok=True)
        fd, path = new_temp_file(self.folder, sha, mode=self.mode)
        self.live.add(path)
        try:
            try:
                write_all(fd, data)
            finally:
                os.close(fd)
        except BaseException:
            self.drop(path)
            raise
        return Staged(sha, path)

    def keep(self, path: Path, target: Path) -> None:
        """Makes the staged file ``target`` once it is on disk (flushed: a row may name it
        then); a ``target`` already there is the same content (its name is its hash), left by
        an import that was cut off."""
        if target.is_file():
            self.drop(path)
            return
        with path.open("r+b") as handle:  # a handle that may write: Windows flushes only those
            os.fsync(handle.fileno())
        os.replace(path, target)
        self.live.discard(path)

    def drop(self, path: Path | None) -> None:
        if path is not None:
            path.unlink(missing_ok=True)
            self.live.discard(path)

    def close(self) -> None:
        """Removes what was staged and not kept (an import canceled or stopped by an error)."""
        for path in list(self.live):
            self.drop(path)
        try:
            self.folder.rmdir()
        except OSError:  # not there, or another import of this dataset is staging files
            pass

    def _sweep(self) -> None:
        """Removes files a killed import staged (a day old: another import may be running)."""
        try:
            with os.scandir(self.folder) as scan:
                old = [Path(e.path) for e in scan
                       if e.is_file(follow_symlinks=False) and e.stat().st_mtime < time.time() - STALE_AFTER]
        except OSError:
            return
        for path in old:
            path.unlink(missing_ok=True)
