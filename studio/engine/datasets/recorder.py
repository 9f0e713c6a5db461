"""The import's own I/O around the picture workers: files read, hashed and staged (see ``staging``)
a few ahead on a thread, originals kept on a few threads, and rows committed as their files are
kept.

A row is committed only after its original is on disk (written whole, fsynced and renamed to
its key), so a row never names a missing file. The main thread never waits on the disk: once
``BATCH`` rows have their files stored they are committed (in order, one transaction with one
batch of INSERTs), and it waits only when ``2 × BATCH`` are still being written.
A cancel commits the rows whose files are stored; a kill loses at most the rows not yet
committed, whose stored files the next import reuses (same content, same key). Memory stays
bounded: one file's bytes at a time on the reading thread; what waits is staged on disk.
"""
from __future__ import annotations

import logging
import uuid
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Literal

from sqlalchemy import select

from studio.engine.datasets.sources import Entry
from studio.engine.datasets.staging import Staged, Staging
from studio.engine.db.models import DatasetImage
from studio.engine.db.repositories import Repository
from studio.engine.errors import Conflict, DiskError
from studio.engine.parts import StudioParts

log = logging.getLogger("studio.datasets")

Status = Literal["imported", "duplicate", "refused"]
READ_AHEAD = 6  # files staged before the one being sent to a worker (each is a path here)
BATCH = 8  # rows per transaction
WRITERS = 2  # threads keeping originals (fsync waits on the disk, not the GIL)


@dataclass(frozen=True, slots=True)
class ImportRow:
    source: str
    status: Status
    reason: str = ""
    image_id: str | None = None
    note: str = ""  # imported, but something was changed or left out (a cleaned caption)


Read = Staged | ImportRow | OSError  # the file's content, why it is refused, or a full disk


@dataclass(frozen=True, slots=True)
class Stored:
    """A picture to keep: its row, committed once ``target`` holds its bytes."""

    source: str
    note: str
    image: DatasetImage  # its id is set: rows of this import's copies name it
    target: Path


def read_ahead(entries: list[Entry], staging: Staging, stack: ExitStack) -> Iterator[tuple[Entry, Read]]:
    """Each entry with its staged content (or refusal), in order, read on one thread (members
    of one archive are read in turn) while the caller works on the files before it. A disk
    error comes in its file's place, so the files before it are finished first."""
    reader = stack.enter_context(ThreadPoolExecutor(1, thread_name_prefix="import-read"))
    window: deque[tuple[Entry, Future[Read]]] = deque()
    for entry in entries:
        window.append((entry, reader.submit(_read, entry, staging)))
        if len(window) > READ_AHEAD:
            yield _result(*window.popleft())
    while window:
        yield _result(*window.popleft())


def _result(entry: Entry, future: Future[Read]) -> tuple[Entry, Read]:
    try:
        return entry, future.result()
    except OSError as exc:  # a full or read-only disk (a source's own errors are refusals)
        return entry, exc


def _read(entry: Entry, staging: Staging) -> Read:
    if entry.refusal or entry.read is None:
        return ImportRow(entry.source, "refused", entry.refusal)
    try:
        return staging.stage(entry)
    except ValueError as exc:
        return ImportRow(entry.source, "refused", str(exc))


def keep_original(staging: Staging, staged: Path, target: Path) -> None:
    """Stores the staged bytes as ``target``, whole or not at all (see ``Staging.keep``)."""
    staging.keep(staged, target)


class Recorder:
    """The import's report rows, in order; stored pictures' rows are filled in when committed."""

    def __init__(self, studio: StudioParts, workspace_id: uuid.UUID, staging: Staging) -> None:
        self.studio, self.workspace_id, self.staging = studio, workspace_id, staging
        self.rows: list[ImportRow | None] = []
        self.waiting: list[tuple[int, Stored, Future[None]]] = []
        self.writers = ThreadPoolExecutor(WRITERS, thread_name_prefix="import-write")

    def __enter__(self) -> Recorder:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        try:
            if kind is not None and self.waiting:  # canceled or failed: keep what is stored
                self.flush()
        except Exception as exc:  # the first error is the one to report
            log.warning("rows of stored pictures not committed: %s", exc)
        finally:
            self.writers.shutdown(wait=True)

    @property
    def count(self) -> int:
        return len(self.rows)

    def add(self, row: ImportRow) -> None:
        self.rows.append(row)

    def store(self, stored: Stored, staged: Path) -> None:
        kept = self.writers.submit(keep_original, self.staging, staged, stored.target)
        self.waiting.append((len(self.rows), stored, kept))
        self.rows.append(None)
        if len(self.waiting) >= 2 * BATCH:  # the disk is behind: wait for it
            self.flush()
        elif self._ready() >= BATCH:
            self.flush(wait=False)

    def committed(self) -> list[ImportRow]:
        """The rows so far, every waiting one committed (call ``flush`` first)."""
        return [row for row in self.rows if row is not None]

    def settle(self) -> list[ImportRow]:
        """After a full or read-only disk stopped the import: commits what can be, and the rows
        up to the first picture that is not in (the report goes on from there)."""
        try:
            self.flush()
        except (OSError, DiskError):
            pass  # the rows end before the picture that failed
        return self.committed()

    def flush(self, *, wait: bool = True) -> None:
        """Commits the waiting rows whose files are stored: all of them, or (``wait=False``) the
        first ones whose writes are done already. A failed write (a full disk) ends the report
        before its file, commits those before it and raises."""
        count = len(self.waiting) if wait else self._ready()
        batch, self.waiting = self.waiting[:count], self.waiting[count:]
        done: list[tuple[int, Stored]] = []
        for index, stored, future in batch:
            try:
                future.result()
            except OSError as exc:
                self._end_at(index, batch[len(done):])
                self._commit_or_end(done)
                raise exc from None
            done.append((index, stored))
        self._commit_or_end(done)

    def _ready(self) -> int:
        count = 0
        for _, _, future in self.waiting:
            if not future.done() or future.exception() is not None:
                break
            count += 1
        return count

    def _end_at(self, index: int, unfinished: list[tuple[int, Stored, Future[None]]]) -> None:
        """The report ends before ``index``; the writes still going finish first (their files,
        without rows, are reused by the next import of the same content)."""
        for _, _, future in unfinished + self.waiting:
            future.exception()
        self.waiting = []
        del self.rows[index:]

    def _commit_or_end(self, done: list[tuple[int, Stored]]) -> None:
        try:
            self._commit(done)
        except BaseException:
            if done:
                self._end_at(done[0][0], [])
            raise

    def _commit(self, done: list[tuple[int, Stored]]) -> None:
        if not done:
            return
        ids = [str(stored.image.id) for _, stored in done]
        try:
            with self.studio.db.session() as session:
                Repository(session, self.workspace_id).add_all([stored.image for _, stored in done])
        except Conflict:  # another import of the same content won the race: one at a time
            for index, stored in done:
                self.rows[index] = self._record(stored)
            return
        for (index, stored), image_id in zip(done, ids, strict=True):
            self.rows[index] = ImportRow(stored.source, "imported", "", image_id, stored.note)

    def _record(self, stored: Stored) -> ImportRow:
        image = stored.image
        dataset_id, sha, image_id = image.dataset_id, image.sha256, str(image.id)
        try:
            with self.studio.db.session() as session:
                Repository(session, self.workspace_id).add(image)
        except Conflict:
            found = existing(self.studio, dataset_id, sha)
            return duplicate(stored.source, found) if found is not None else ImportRow(
                stored.source, "refused", "could not be recorded (conflict)")
        return ImportRow(stored.source, "imported", "", image_id, stored.note)


def existing(studio: StudioParts, dataset_id: uuid.UUID, sha: str) -> DatasetImage | None:
    """The image with this content, in the trash too (the unique constraint counts it)."""
    with studio.db.session() as session:
        return session.scalars(select(DatasetImage).where(
            DatasetImage.dataset_id == dataset_id, DatasetImage.sha256 == sha)).first()


def duplicate(source: str, found: DatasetImage) -> ImportRow:
    where = "already in this dataset"
    if found.deleted_at is not None:
        where += " (in the trash; restore it from there)"
    return ImportRow(source, "duplicate", where, str(found.id))
