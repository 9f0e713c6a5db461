"""Import files, folders and zip archives into a dataset; every refused file gets a reason.

Originals are stored untouched under ``datasets/<workspace>/<dataset>/<sha256><ext>``: the key
comes from the content, never from the incoming name, so a hostile name cannot choose where a
file lands. Each file is copied once as it is hashed (see ``staging``) and that copy is decoded
(at reduced scale, which still reads all of it) before it is kept, so what is kept is what was
hashed and decoded; the one decode also gives its thumbnails and its analysis (see ``ingest``). The
image's row is committed only after its file is stored, so an import cut off half way leaves
at worst a stored file without a row, which the next run reuses.
"""
from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from contextlib import ExitStack, closing
from dataclasses import asdict, dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from sqlalchemy import select

from studio.engine.datasets.analysis import CLIP_KEY, analysis_fields
from studio.engine.datasets.caption_text import CaptionText
from studio.engine.datasets.ingest import Ingested, IngestTask, ingest
from studio.engine.datasets.pool import map_ordered
from studio.engine.datasets.recorder import (
    ImportRow as ImportRow,  # the report's rows: callers import them from here
)
from studio.engine.datasets.recorder import (
    Read,
    Recorder,
    Status,
    Stored,
    duplicate,
    existing,
    read_ahead,
)
from studio.engine.datasets.sources import Entry, accepted_formats, gather
from studio.engine.datasets.staging import Staging
from studio.engine.datasets.tags import split_tags
from studio.engine.datasets.video_items import CLIP_FORMATS, is_clip_name
from studio.engine.db.models import Dataset, DatasetImage
from studio.engine.disk_errors import disk_error
from studio.engine.errors import DiskError
from studio.engine.parts import StudioParts
from studio.engine.storage.local import LocalStore

log = logging.getLogger("studio.datasets")

Progress = Callable[[float, str], None]
Step = ImportRow | IngestTask | OSError  # a file's fate known before decoding, or its task


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

    A thread reads, hashes and stages the files a few ahead; worker processes decode, thumbnail
    and analyse the staged copies (a few at a time); here each is checked against the dataset
    and handed to the recorder, which keeps it on a few threads and commits rows in batches
    (see ``recorder``)."""
    store = LocalStore(studio.paths.assets_dir)
    known = _known_hashes(studio, dataset)
    firsts: dict[str, str] = {}  # sha256 → the image id this import gave it
    with ExitStack() as stack:  # archives stay open until their members are read
        entries = [entry for path in paths for entry in gather(Path(path).absolute(), stack)]
        # Closed last: after the writers have kept what they were given and the reader stopped
        staging = Staging(store.path(f"datasets/{dataset.workspace_id}/{dataset.id}"), known)
        stack.callback(staging.close)
        recorder = stack.enter_context(Recorder(studio, dataset.workspace_id, staging))
        reads = read_ahead(entries, staging, stack)
        steps = (_prepare(studio, dataset, entry, read, known) for entry, read in reads)
        outcomes = stack.enter_context(closing(map_ordered(
            steps, _task_of, ingest, total=len(entries))))
        try:
            for (entry, step), outcome in outcomes:
                if check_canceled is not None:
                    check_canceled()
                _finish(dataset, store, recorder, entry, step, outcome, firsts)
                if progress is not None:
                    progress(recorder.count / len(entries),
                             f"{recorder.count} of {len(entries)}: {entry.source_name}")
            recorder.flush()
        except (OSError, DiskError) as exc:  # a full or read-only disk: keep what went in
            rows = recorder.settle()
            return ImportReport(rows=tuple(rows + _not_imported(studio, entries[len(rows):], exc)))
    return ImportReport(rows=tuple(recorder.committed()))


def _not_imported(studio: StudioParts, rest: list[Entry], exc: Exception) -> list[ImportRow]:
    """The files after a full or read-only disk stopped the import, each with that reason; any
    other error is not the disk's and goes on up."""
    disk = disk_error(exc, studio.paths.data_dir)
    if disk is None:
        raise exc
    log.warning("import stopped with %d file(s) left: %s", len(rest), disk)
    return [ImportRow(entry.source, "refused", f"not imported: {disk}") for entry in rest]


# Importing one file -----------------------------------------------------------------------------


def _prepare(studio: StudioParts, dataset: Dataset, entry: Entry, read: Read,
             known: set[str]) -> tuple[Entry, Step]:
    """The file's fate when it is known before decoding (refused, unreadable, a duplicate, a
    full disk), else the task that decodes it."""
    if isinstance(read, ImportRow | OSError):
        return entry, read
    found = existing(studio, dataset.id, read.sha256) if read.sha256 in known else None
    if found is not None:
        return entry, duplicate(entry.source, found)
    if read.path is None:  # known a moment ago and gone now (purged): staged next time
        return entry, ImportRow(entry.source, "refused", "removed from the dataset during this import; import it again")
    clip = PurePosixPath(entry.source_name).suffix.lower() if is_clip_name(entry.source_name) else ""
    return entry, IngestTask(read.path, read.sha256, studio.paths.cache_dir, tuple(accepted_formats()), clip)


def _task_of(prepared: tuple[Entry, Step]) -> IngestTask | None:
    step = prepared[1]
    return step if isinstance(step, IngestTask) else None


def _finish(dataset: Dataset, store: LocalStore, recorder: Recorder, entry: Entry,
            step: Step, outcome: Ingested | ValueError | None, firsts: dict[str, str]) -> None:
    if isinstance(step, OSError):  # the files before it are in: the import stops here
        raise step
    if isinstance(step, ImportRow):
        recorder.add(step)
        return
    if isinstance(outcome, ValueError) or outcome is None:
        recorder.staging.drop(step.path)
        recorder.add(ImportRow(entry.source, "refused", str(outcome)))
        return
    if step.sha256 in firsts:  # the same content twice in this import
        recorder.staging.drop(step.path)
        recorder.add(ImportRow(entry.source, "duplicate", "already in this dataset", firsts[step.sha256]))
        return
    extension = {**accepted_formats(), **CLIP_FORMATS}[outcome.format]
    key = f"datasets/{dataset.workspace_id}/{dataset.id}/{step.sha256}{extension}"
    if outcome.thumbnails_error:
        log.warning("thumbnails of %s not written: %s", entry.source, outcome.thumbnails_error)
    caption = entry.caption() if entry.caption is not None else CaptionText("")
    fields = analysis_fields(outcome.analysis, step.sha256, outcome.width, outcome.height)
    if outcome.clip is not None:  # kept even when the analysis failed (it is redone later)
        fields["quality"] = {**fields.get("quality", {}), CLIP_KEY: outcome.clip}
    image = DatasetImage(
        id=uuid.uuid4(), dataset_id=dataset.id, storage_key=key, sha256=step.sha256,
        original_name=PurePosixPath(entry.source_name).name[:500], source_name=entry.source_name[:1000],
        width=outcome.width, height=outcome.height, format=outcome.format, size_bytes=step.path.stat().st_size,
        caption=caption.text, tags=split_tags(caption.text, dataset.tag_separator),
        **fields)
    firsts[step.sha256] = str(image.id)
    recorder.store(Stored(entry.source, caption.note, image, store.path(key)), step.path)


def _known_hashes(studio: StudioParts, dataset: Dataset) -> set[str]:
    """The contents the dataset holds, in the trash too: one read, so each file's check against
    them is a lookup (the row behind a match is read when there is one)."""
    with studio.db.session() as session:
        return set(session.scalars(select(DatasetImage.sha256).where(
            DatasetImage.dataset_id == dataset.id)))
