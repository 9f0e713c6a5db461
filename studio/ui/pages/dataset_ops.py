"""What the Datasets page asks of the engine: blocking calls, run on background lanes only.

Each takes the page's context (and the open dataset) and returns plain values the UI thread can
show. Engine pieces that have not landed yet raise ``NotAvailable`` instead of faking a result.
"""
from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from studio.engine.datasets.service import create_dataset, list_datasets, update_image
from studio.engine.db.models import Dataset
from studio.engine.errors import StudioError
from studio.engine.influencers import list_influencers
from studio.ui.context import StudioContext
from studio.ui.models.dataset_images import NOT_YET, ImageRow, engine_part, load_rows
from studio.ui.widgets.import_panel import JobState


class NotAvailable(StudioError):
    pass


def _part(module: str, name: str) -> Any:
    found = engine_part(module, name)
    if found is None:
        raise NotAvailable(f"{name} is {NOT_YET}")
    return found


@dataclass(frozen=True, slots=True)
class Extras:
    """What comes after the rows: slower to gather, not needed for the first screen."""

    tags: list[tuple[str, int]]
    history: Any | None  # captions.HistoryState, or None when captions have not landed
    problems: list[Any] | None  # checks.CaptionIssue list, or None


def tag_splitter(separator: str) -> Callable[[str], list[str]] | None:
    split = engine_part("tags", "split_tags")
    return None if split is None else (lambda caption: split(caption, separator))


def influencer_choices(context: StudioContext) -> list[tuple[uuid.UUID, str, str]]:
    return [(i.id, i.name, i.trigger_word) for i in list_influencers(context.studio, context.workspace_id)]


def datasets_of(context: StudioContext, influencer_id: uuid.UUID) -> list[Dataset]:
    return list(list_datasets(context.studio, context.workspace_id, influencer_id))


def create(context: StudioContext, influencer_id: uuid.UUID, name: str) -> Dataset:
    return create_dataset(context.studio, context.workspace_id, influencer_id, name)


def rows_of(context: StudioContext, dataset: Dataset) -> list[ImageRow]:
    return load_rows(context.studio, dataset.workspace_id, dataset.id)


def extras(context: StudioContext, dataset: Dataset) -> Extras:
    studio = context.studio
    frequency, history = engine_part("captions", "tag_frequency"), engine_part("captions", "history")
    checks = engine_part("checks", "caption_checks")
    return Extras(tags=frequency(studio, dataset) if frequency else [],
                  history=history(studio, dataset) if history else None,
                  problems=checks(studio, dataset) if checks else None)


def save_caption(context: StudioContext, dataset: Dataset, image_id: uuid.UUID, text: str) -> None:
    set_caption = _part("captions", "set_caption")
    set_caption(context.studio, dataset, image_id, text, merge=True)


def save_crop(context: StudioContext, dataset: Dataset, image_id: uuid.UUID, crop: dict) -> None:
    update_image(context.studio, dataset.workspace_id, image_id, crop=crop, crop_manual=True)


def exclude(context: StudioContext, dataset: Dataset, image_ids: Sequence[uuid.UUID]) -> int:
    for image_id in image_ids:
        update_image(context.studio, dataset.workspace_id, image_id, excluded=True)
    return len(image_ids)


def undo(context: StudioContext, dataset: Dataset) -> str | None:
    return _part("captions", "undo")(context.studio, dataset)


def redo(context: StudioContext, dataset: Dataset) -> str | None:
    return _part("captions", "redo")(context.studio, dataset)


def apply(context: StudioContext, dataset: Dataset, op: Any, image_ids: list[uuid.UUID] | None) -> int:
    return int(_part("captions", "apply")(context.studio, dataset, op, image_ids))


def submit_import(context: StudioContext, dataset: Dataset, paths: list[Path]) -> uuid.UUID:
    return _part("jobs", "submit_import")(context.studio, dataset, paths).id


def submit_analysis(context: StudioContext, dataset: Dataset) -> uuid.UUID:
    return _part("jobs", "submit_analysis")(context.studio, dataset).id


def submit_autocaption(context: StudioContext, dataset: Dataset, image_ids: list[uuid.UUID]) -> uuid.UUID:
    from studio.engine.datasets.autocaption import submit_autocaption as submit
    return submit(context.studio, dataset, image_ids).id


def job_state(context: StudioContext, job_id: uuid.UUID) -> JobState:
    job = context.studio.jobs.get(context.workspace_id, job_id)
    return JobState(id=job.id, type=job.type, status=job.status, progress=job.progress,
                    message=job.message, error=job.error, result=job.result)


def export(context: StudioContext, dataset: Dataset, folder: Path) -> str:
    result = _part("export", "export_kohya")(context.studio, dataset, folder)
    skipped = result.skipped_excluded + result.skipped_duplicates
    return (f"Exported {result.images} images and {result.captions} captions to {result.image_dir}"
            + (f" ({skipped} left out)." if skipped else "."))
