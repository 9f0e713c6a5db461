"""Import files, folders and zip archives into a dataset; every refused file gets a reason.

Originals are stored untouched under ``datasets/<workspace>/<dataset>/<sha256><ext>``: the key
comes from the content, never from the incoming name, so a hostile name cannot choose where a
file lands. Each file is decoded before it is kept. The image's row is committed only after its
file is stored, so an import cut off half way leaves at worst a stored file without a row, which
the next run reuses.
"""
from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import asdict, dataclass
from pathlib import Path, PurePosixPath
from typing import Any, Literal

from sqlalchemy import select

from studio.engine.datasets.caption_text import CaptionText
from studio.engine.datasets.sources import Entry, accepted_formats, gather
from studio.engine.datasets.tags import split_tags
from studio.engine.db.models import Dataset, DatasetImage
from studio.engine.db.repositories import Repository
from studio.engine.disk_errors import disk_error
from studio.engine.errors import Conflict, DiskError
from studio.engine.media.thumbnails import SIZES, decode_image, write_thumbnails
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
    """Imports what ``paths`` name (files, folders, .zip archives) into ``dataset``."""
    store = LocalStore(studio.paths.assets_dir)
    rows: list[ImportRow] = []
    with ExitStack() as stack:  # archives stay open until their members are read
        entries = [entry for path in paths for entry in gather(Path(path).absolute(), stack)]
        for index, entry in enumerate(entries, start=1):
            if check_canceled is not None:
                check_canceled()
            try:
                rows.append(_import_one(studio, dataset, store, entry))
            except (OSError, DiskError) as exc:  # a full or read-only disk: keep what went in
                rows += _not_imported(studio, entries[index - 1:], exc)
                break
            if progress is not None:
                progress(index / len(entries), f"{index} of {len(entries)}: {entry.source_name}")
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


def _import_one(studio: StudioParts, dataset: Dataset, store: LocalStore, entry: Entry) -> ImportRow:
    if entry.refusal or entry.read is None:
        return ImportRow(entry.source, "refused", entry.refusal)
    try:
        data = entry.read()
    except ValueError as exc:
        return ImportRow(entry.source, "refused", str(exc))
    sha = hashlib.sha256(data).hexdigest()
    existing = _existing(studio, dataset, sha)
    if existing is not None:
        return _duplicate(entry, existing)
    formats = accepted_formats()
    try:
        decoded = decode_image(data, reduce_to=max(SIZES), formats=list(formats))
    except ValueError as exc:
        return ImportRow(entry.source, "refused", str(exc))
    key = f"datasets/{dataset.workspace_id}/{dataset.id}/{sha}{formats[decoded.format]}"
    if not store.exists(key):  # else left by an import that was cut off: same content by its key
        store.put_bytes(data, key)
    try:
        write_thumbnails(decoded.image, studio.paths.cache_dir, sha)
    except OSError as exc:  # the grid makes missing thumbnails on demand
        log.warning("thumbnails of %s not written: %s", entry.source, exc)
    caption = entry.caption() if entry.caption is not None else CaptionText("")
    return _record(studio, dataset, entry, caption.note, DatasetImage(
        dataset_id=dataset.id, storage_key=key, sha256=sha,
        original_name=PurePosixPath(entry.source_name).name[:500], source_name=entry.source_name[:1000],
        width=decoded.width, height=decoded.height, format=decoded.format, size_bytes=len(data),
        caption=caption.text, tags=split_tags(caption.text, dataset.tag_separator)))


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
