"""What the Datasets page asks of the engine: blocking calls, run on background lanes only.

Each takes the page's context (and the open dataset) and returns plain values the UI thread can
show.
"""
from __future__ import annotations

import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from studio.engine.datasets import autocaption, captions, checks, jobs
from studio.engine.datasets.caption_style import default_style, last_training_family
from studio.engine.datasets.crops import DEFAULT_TARGET, set_manual_crop
from studio.engine.datasets.export import export_kohya
from studio.engine.datasets.filters import ImageRow, image_rows
from studio.engine.datasets.filters import tag_splitter as tag_splitter  # the page asks ops
from studio.engine.datasets.service import create_dataset, list_datasets
from studio.engine.db.models import Dataset
from studio.engine.influencers import list_influencers
from studio.ui.context import StudioContext

PACE_ROWS = 1000  # rows between two pauses of ``paced``
PACE_S = 0.004

# The export's choice of caption style, as the dialog lists it: label → style (None: as they are).
EXPORT_STYLES: dict[str, str | None] = {
    "As they are": None, "As tags (SD 1.5, SDXL)": "tags",
    "As sentences (FLUX.1, SD 3.5, Qwen-Image, Wan 2.2)": "sentences"}


@dataclass(frozen=True, slots=True)
class Extras:
    """What comes after the rows: slower to gather, not needed for the first screen."""

    tags: list[tuple[str, int]]
    history: captions.HistoryState
    problems: checks.IssueSummary
    family: str | None = None  # of the influencer's last training: the caption counter's limit


def influencer_choices(context: StudioContext) -> list[tuple[uuid.UUID, str, str]]:
    return [(i.id, i.name, i.trigger_word) for i in list_influencers(context.studio, context.workspace_id)]


def datasets_of(context: StudioContext, influencer_id: uuid.UUID) -> list[Dataset]:
    return list(list_datasets(context.studio, context.workspace_id, influencer_id))


def create(context: StudioContext, influencer_id: uuid.UUID, name: str) -> Dataset:
    return create_dataset(context.studio, context.workspace_id, influencer_id, name)


def rows_of(context: StudioContext, dataset: Dataset) -> list[ImageRow]:
    return image_rows(context.studio, workspace_id=dataset.workspace_id, dataset_id=dataset.id)


def extras(context: StudioContext, dataset: Dataset, rows: Sequence[ImageRow]) -> Extras:
    """From the rows the page read (in import order), not a second read of every caption: a read
    of 100,000 rows beside the grid held the interpreter lock long enough to stall scrolling."""
    studio = context.studio
    family = last_training_family(studio, dataset.workspace_id, dataset.influencer_id)
    trained = ((row.id, row.caption, row.name) for row in paced(rows) if not row.excluded)
    return Extras(tags=captions.count_tags((row.caption for row in paced(rows)), dataset.tag_separator),
                  history=captions.history(studio, dataset),
                  problems=checks.IssueSummary.of(checks.check_captions(
                      trained, checks.trigger_of(studio, dataset), family or "")),
                  family=family)


def paced(rows: Sequence[ImageRow], every: int = PACE_ROWS) -> Iterator[ImageRow]:
    """``rows``, with a short sleep every ``every`` of them: work on a large dataset beside the
    grid leaves the interpreter lock and a core to the UI thread now and then (at 100,000 rows
    the checks ran 0.3 s and stalled scrolling 80–200 ms)."""
    for start in range(0, len(rows), every):
        yield from rows[start:start + every]
        time.sleep(PACE_S)


def save_caption(context: StudioContext, dataset: Dataset, image_id: uuid.UUID, text: str,
                 expected: str | None) -> None:
    captions.set_caption(context.studio, dataset, image_id, text, merge=True, expected=expected)


def save_crop(context: StudioContext, dataset: Dataset, image_id: uuid.UUID, crop: dict) -> None:
    """The dragged rectangle, through the engine's crop rule (inside the image, a bucket's aspect)."""
    box = (crop["x"], crop["y"], crop["w"], crop["h"])
    set_manual_crop(context.studio, dataset.workspace_id, image_id, box,
                    int(crop.get("target") or DEFAULT_TARGET))


def set_excluded(context: StudioContext, dataset: Dataset, image_ids: Sequence[uuid.UUID], excluded: bool,
                 label: str) -> int:
    """One step of the caption history, so Undo brings the pictures back."""
    return captions.set_excluded(context.studio, dataset, image_ids, excluded, label=label)


def undo(context: StudioContext, dataset: Dataset) -> str | None:
    return captions.undo(context.studio, dataset)


def redo(context: StudioContext, dataset: Dataset) -> str | None:
    return captions.redo(context.studio, dataset)


def apply(context: StudioContext, dataset: Dataset, op: Any, image_ids: list[uuid.UUID] | None) -> int:
    return captions.apply(context.studio, dataset, op, image_ids)


def submit_import(context: StudioContext, dataset: Dataset, paths: list[Path]) -> uuid.UUID:
    return jobs.submit_import(context.studio, dataset, paths).id


def submit_analysis(context: StudioContext, dataset: Dataset) -> uuid.UUID:
    return jobs.submit_analysis(context.studio, dataset).id


def submit_autocaption(context: StudioContext, dataset: Dataset, image_ids: list[uuid.UUID]) -> uuid.UUID:
    """In the style of the influencer's last training's family (tags before any training)."""
    style = default_style(context.studio, dataset)
    return autocaption.submit_autocaption(context.studio, dataset, image_ids, style=style).id


def export(context: StudioContext, dataset: Dataset, folder: Path, caption_style: str | None = None) -> str:
    result = export_kohya(context.studio, dataset, folder, caption_style=caption_style)
    skipped = result.skipped_excluded + result.skipped_duplicates
    return (f"Exported {result.images} images and {result.captions} captions to {result.image_dir}"
            + (f" ({skipped} left out)" if skipped else "") + f"; {result.caption_report}.")
