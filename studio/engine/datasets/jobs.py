"""Dataset jobs: "import-dataset" and "analyze-dataset", and the calls that submit them.

The command line and the UI call ``submit_import`` and ``submit_analysis``; a worker runs the
handlers. An import completes even when some files are refused (the report says why) and fails
only when nothing given could be read at all.
"""
from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from studio.engine.core import Studio
from studio.engine.datasets.analysis import NEAR_DUP_THRESHOLD, AnalysisSummary, analyze_dataset
from studio.engine.datasets.crops import DEFAULT_TARGET, TARGETS
from studio.engine.datasets.desk import DeskFile, desk_names, lay_out, pick
from studio.engine.datasets.importer import ImportReport, ImportRow, import_paths
from studio.engine.db.models import Dataset, Job
from studio.engine.db.repositories import Repository
from studio.engine.errors import InvalidInput
from studio.engine.identity.references import after_analysis
from studio.engine.jobs.context import JobContext
from studio.engine.jobs.errors import JobFailed
from studio.engine.jobs.inputs import desk_uploads
from studio.engine.jobs.registry import job_type
from studio.engine.storage.local import LocalStore

MAX_PATHS = 10_000


@dataclass(frozen=True, slots=True)
class ImportPayload:
    dataset_id: uuid.UUID
    # Solo mode: files, folders and .zip archives as the user picked them. Not asset keys: the
    # worker on this machine reads them where they are, and a folder is not copied to be read once.
    paths: tuple[Path, ...] = ()
    # Team mode: the picked files by asset key (sent to the bucket at submit), the picks as the
    # desk named them, and what the desk did not send (links, files of a kind never imported).
    files: tuple[DeskFile, ...] = ()
    shown: tuple[str, ...] = ()
    refused: tuple[ImportRow, ...] = ()


@dataclass(frozen=True, slots=True)
class ImportResult:
    imported: int
    duplicates: int
    refused: int
    rows: tuple[ImportRow, ...]

    @classmethod
    def of(cls, report: ImportReport) -> ImportResult:
        return cls(imported=report.imported, duplicates=report.duplicates,
                   refused=report.refused, rows=report.rows)


@dataclass(frozen=True, slots=True)
class AnalysisPayload:
    dataset_id: uuid.UUID
    force: bool = False
    image_ids: tuple[uuid.UUID, ...] | None = None  # None: the whole dataset
    target: int = DEFAULT_TARGET
    threshold: int = NEAR_DUP_THRESHOLD


def submit_import(studio: Studio, dataset: Dataset, paths: Sequence[Path | str]) -> Job:
    """Queues an import of files, folders and .zip archives; every path must exist now."""
    if not paths:
        raise InvalidInput("Nothing to import: give at least one file, folder or .zip archive.")
    if len(paths) > MAX_PATHS:
        raise InvalidInput(f"Too many paths in one import ({len(paths)}; at most {MAX_PATHS}); "
                           "drop their folder instead.")
    absolute = [Path(p).expanduser().absolute() for p in paths]
    missing = [str(p) for p in absolute if not p.exists() and not p.is_symlink()]
    if missing:
        raise InvalidInput(f"Not found: {', '.join(missing[:3])}"
                           + (f" and {len(missing) - 3} more" if len(missing) > 3 else "") + ".")
    payload = ImportPayload(dataset_id=dataset.id, paths=tuple(absolute))
    uploads = desk_uploads(studio.jobs.prepare)
    if uploads is not None:  # team mode: a worker elsewhere reads them from the bucket
        sent = pick(dataset.workspace_id, absolute)
        uploads.put_all(list(zip(sent.sources, (f.key for f in sent.files), strict=True)))
        payload = ImportPayload(dataset_id=dataset.id, files=sent.files, shown=sent.shown,
                                refused=sent.refused)
    return studio.jobs.submit(dataset.workspace_id, "import-dataset", payload,
                              title=f"Import into {dataset.name}")


def submit_analysis(studio: Studio, dataset: Dataset, *, force: bool = False,
                    image_ids: Iterable[uuid.UUID | str] | None = None,
                    target: int | None = None, threshold: int | None = None) -> Job:
    """Queues analysis of the dataset (or of ``image_ids``): hashes, quality, faces, crops."""
    payload = AnalysisPayload(
        dataset_id=dataset.id, force=bool(force),
        image_ids=None if image_ids is None else tuple(_uuid(i) for i in image_ids),
        target=DEFAULT_TARGET if target is None else _target(target),
        threshold=NEAR_DUP_THRESHOLD if threshold is None else _threshold(threshold))
    return studio.jobs.submit(dataset.workspace_id, "analyze-dataset", payload,
                              title=f"Analyse {dataset.name}")


@job_type("import-dataset", queue="general", payload=ImportPayload, result=ImportResult)
def run_import(ctx: JobContext, payload: ImportPayload) -> ImportResult:
    dataset = _dataset(ctx, payload.dataset_id)
    if payload.files or payload.refused:
        return _import_sent(ctx, dataset, payload)
    given = [str(p) for p in payload.paths]
    if not given:
        raise JobFailed("No files or folders were given to import.")
    report = _import(ctx, dataset, given)
    _fail_when_nothing_was_read(report, given)
    return ImportResult.of(report)


def _import(ctx: JobContext, dataset: Dataset, given: list[str]) -> ImportReport:
    ctx.progress(0.0, stage="import", message=f"Looking through {len(given)} path(s)")
    report = import_paths(ctx, dataset, [Path(p) for p in given],
                          progress=lambda fraction, message: ctx.progress(fraction, message=message),
                          check_canceled=ctx.check_canceled)
    if report.imported:  # the import analysed them: her references and their identity verdicts follow
        after_analysis(ctx, dataset.id)
    return report


def _import_sent(ctx: JobContext, dataset: Dataset, payload: ImportPayload) -> ImportResult:
    """Files a desk sent through the bucket (the runner fetched them), in their picked shape."""
    folder = ctx.paths.cache_dir / "imports" / str(ctx.job_id)
    try:
        try:
            picks = lay_out(LocalStore(ctx.paths.assets_dir), payload.files, folder)
        except ValueError as exc:
            raise JobFailed(f"The import's files could not be laid out: {exc}.") from None
        report = _import(ctx, dataset, [str(p) for p in picks]) if picks else ImportReport(rows=())
        rows = desk_names(report.rows, folder, payload.shown) + payload.refused
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    full = ImportReport(rows=rows)
    _fail_when_nothing_was_read(full, list(payload.shown))
    return ImportResult.of(full)


@job_type("analyze-dataset", queue="general", payload=AnalysisPayload, result=AnalysisSummary)
def run_analysis(ctx: JobContext, payload: AnalysisPayload) -> AnalysisSummary:
    dataset = _dataset(ctx, payload.dataset_id)
    ctx.progress(0.0, stage="analysis", message="Starting")
    return analyze_dataset(
        ctx, dataset, force=payload.force,
        image_ids=None if payload.image_ids is None else list(payload.image_ids),
        target=_target(payload.target), threshold=_threshold(payload.threshold),
        progress=lambda fraction, message: ctx.progress(fraction, message=message),
        check_canceled=ctx.check_canceled)


def _fail_when_nothing_was_read(report: ImportReport, given: list[str]) -> None:
    """Refused files are the report's business; a job with nothing to show for it fails."""
    if report.imported or report.duplicates:
        return
    if not report.rows:
        raise JobFailed(f"No files found in {', '.join(given[:3])}.")
    top_level = {str(Path(p).absolute()) for p in given}
    if all(row.source in top_level for row in report.rows):
        first = report.rows[0]
        raise JobFailed(f"Nothing could be imported: {first.source}: {first.reason}.")


def _dataset(ctx: JobContext, dataset_id: uuid.UUID) -> Dataset:
    with ctx.db.session() as session:
        return Repository(session, ctx.workspace_id).get(Dataset, dataset_id)


def _uuid(value: object) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise InvalidInput(f"'{value}' is not an image id.") from None


def _target(value: object) -> int:
    if value not in TARGETS:
        raise InvalidInput(f"Target resolution must be one of {', '.join(map(str, TARGETS))}.")
    return int(value)


def _threshold(value: object) -> int:
    if not isinstance(value, int) or not 0 <= value <= 32:
        raise InvalidInput("The near-duplicate threshold is a number of bits from 0 to 32.")
    return value
