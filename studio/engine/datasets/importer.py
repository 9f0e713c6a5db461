"""Import files, folders and zip archives into a dataset; every refused file gets a reason.

Originals are stored untouched under ``datasets/<workspace>/<dataset>/<sha256><ext>``: the key
comes from the content, never from the incoming name, so a hostile name cannot choose where a
file lands. Each file is decoded (at reduced scale, which still reads all of it) before it is
kept, and that one decode also gives its thumbnails and its analysis (see ``ingest``). The
image's row is committed only after its file is stored, so an import cut off half way leaves
at worst a stored file without a row, which the next run reuses.
"""
from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from contextlib import ExitStack, closing
from dataclasses import asdict, dataclass
from pathlib import Path, PurePosixPath
from typing import Any, Literal

from sqlalchemy import select

from studio.engine.datasets.analysis import analysis_fields
from studio.engine.datasets.caption_text import CaptionText
from studio.engine.datasets.ingest import Ingested, IngestTask, ingest
from studio.engine.datasets.pool import map_ordered
from studio.engine.datasets.sources import Entry, accepted_formats, gather
from studio.engine.datasets.tags import split_tags
from studio.engine.db.models import Dataset, DatasetImage
from studio.engine.db.repositories import Repository
from studio.engine.disk_errors import disk_error
from studio.engine.errors import Conflict, DiskError
from studio.engine.parts import StudioParts
from studio.engine.storage.local import LocalStore

log = logging.getLogger("studio.datasets")

Status = Literal["imported", "duplicate", "refused"]
Progress = Callable[[float, str], None]


@dataclass(frozen=True, slots=True)
class ImportRow:
    source: str
    status: Status
    reason: str = ""
    image_id: str | None = None
    note: str = ""  # imported, but something was changed or left out (a cleaned caption)


@dataclass(frozen=True, slots=True)
class ImportReport:
    rows: tuple[ImportRow, ...]

    def count(self, status: Status) -> int:
        return sum(1 for row in self.rows if row.status == status)

    @property
    def imported(self) -> int:
        return self.count("imported")

    @property
    def duplicates(self) -> int:
        return self.count("duplicate")

    @property
    def refused(self) -> int:
        return self.count("refused")

    def to_dict(self) -> dict[str, Any]:
        return {"imported": self.imported, "duplicates": self.duplicates, "refused": self.refused,
                "rows": [asdict(row) for row in self.rows]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ImportReport:
        return cls(rows=tuple(ImportRow(**row) for row in data.get("rows", [])))


def import_paths(studio: StudioParts, dataset: Dataset, paths: list[Path], *,
                 progress: Progress | None = None,
                 check_canceled: Callable[[], None] | None = None) -> ImportReport:
    """Imports what ``paths`` name (files, folders, .zip archives) into ``dataset``.

    Files are read, hashed and checked against the dataset here, decoded, thumbnailed and
    analysed in worker processes (a few at a time), then stored and recorded here in order."""
    store = LocalStore(studio.paths.assets_dir)
    rows: list[ImportRow] = []
    recorded: set[str] = set()
    with ExitStack() as stack:  # archives stay open until their members are read
        entries = [entry for path in paths for entry in gather(Path(path).absolute(), stack)]
        steps = (_prepare(studio, dataset, entry) for entry in entries)
        outcomes = stack.enter_context(closing(map_ordered(
            steps, _task_of, ingest, total=len(entries))))
        try:
            for (entry, step), outcome in outcomes:
                if check_canceled is not None:
                    check_canceled()
                rows.append(_finish(studio, dataset, store, entry, step, outcome, recorded))
                if progress is not None:
                    progress(len(rows) / len(entries),
                             f"{len(rows)} of {len(entries)}: {entry.source_name}")
        except (OSError, DiskError) as exc:  # a full or read-only disk: keep what went in
            rows += _not_imported(studio, entries[len(rows):], exc)
    return ImportReport(rows=tuple(rows))


def _not_imported(studio: StudioParts, rest: list[Entry], exc: Exception) -> list[ImportRow]:
    """The files after a full or read-only disk stopped the import, each with that reason; any
    other error is not the disk's and goes on up."""
    disk = disk_error(exc, studio.paths.data_dir)
    if disk is None:
        raise exc
    log.warning("import stopped with %d file(s) left: %s", len(rest), disk)
    return [ImportRow(entry.source, "refused", f"not imported: {disk}") for entry in rest]


# Importing one file -----------------------------------------------------------------------------


def _prepare(studio: StudioParts, dataset: Dataset,
             entry: Entry) -> tuple[Entry, ImportRow | IngestTask]:
    """The file's fate when it is known before decoding (refused, unreadable, a duplicate),
    else the task that decodes it."""
    if entry.refusal or entry.read is None:
        return entry, ImportRow(entry.source, "refused", entry.refusal)
    try:
        data = entry.read()
    except ValueError as exc:
        return entry, ImportRow(entry.source, "refused", str(exc))
    sha = hashlib.sha256(data).hexdigest()
    existing = _existing(studio, dataset, sha)
    if existing is not None:
        return entry, _duplicate(entry, existing)
    return entry, IngestTask(data, sha, studio.paths.cache_dir, tuple(accepted_formats()))


def _task_of(prepared: tuple[Entry, ImportRow | IngestTask]) -> IngestTask | None:
    step = prepared[1]
    return step if isinstance(step, IngestTask) else None


def _finish(studio: StudioParts, dataset: Dataset, store: LocalStore, entry: Entry,
            step: ImportRow | IngestTask, outcome: Ingested | ValueError | None,
            recorded: set[str]) -> ImportRow:
    if isinstance(step, ImportRow):
        return step
    if isinstance(outcome, ValueError) or outcome is None:
        return ImportRow(entry.source, "refused", str(outcome))
    if step.sha256 in recorded:  # the same content twice in this import
        existing = _existing(studio, dataset, step.sha256)
        if existing is not None:
            return _duplicate(entry, existing)
    key = f"datasets/{dataset.workspace_id}/{dataset.id}/{step.sha256}{accepted_formats()[outcome.format]}"
    if not store.exists(key):  # else left by an import that was cut off: same content by its key
        store.put_bytes(step.data, key)
    if outcome.thumbnails_error:
        log.warning("thumbnails of %s not written: %s", entry.source, outcome.thumbnails_error)
    caption = entry.caption() if entry.caption is not None else CaptionText("")
    recorded.add(step.sha256)
    return _record(studio, dataset, entry, caption.note, DatasetImage(
        dataset_id=dataset.id, storage_key=key, sha256=step.sha256,
        original_name=PurePosixPath(entry.source_name).name[:500], source_name=entry.source_name[:1000],
        width=outcome.width, height=outcome.height, format=outcome.format, size_bytes=len(step.data),
        caption=caption.text, tags=split_tags(caption.text, dataset.tag_separator),
        **analysis_fields(outcome.analysis, step.sha256, outcome.width, outcome.height)))


def _record(studio: StudioParts, dataset: Dataset, entry: Entry, note: str,
            image: DatasetImage) -> ImportRow:
    """Commits the row: the last step, so a kill before it leaves no half-written record."""
    try:
        with studio.db.session() as session:
            image_id = Repository(session, dataset.workspace_id).add(image).id
    except Conflict:  # another import of the same content won the race
        found = _existing(studio, dataset, image.sha256)
        return _duplicate(entry, found) if found is not None else ImportRow(
            entry.source, "refused", "could not be recorded (conflict)")
    return ImportRow(entry.source, "imported", "", str(image_id), note)


def _existing(studio: StudioParts, dataset: Dataset, sha: str) -> DatasetImage | None:
    """The image with this content, in the trash too (the unique constraint counts it)."""
    with studio.db.session() as session:
        return session.scalars(select(DatasetImage).where(
            DatasetImage.dataset_id == dataset.id, DatasetImage.sha256 == sha)).first()


def _duplicate(entry: Entry, existing: DatasetImage) -> ImportRow:
    where = "already in this dataset"
    if existing.deleted_at is not None:
        where += " (in the trash; restore it from there)"
    return ImportRow(entry.source, "duplicate", where, str(existing.id))
