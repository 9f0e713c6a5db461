"""The grid's rows arranged off the UI thread: filtered, sorted, indexed and summed up at once.

A dataset of 100,000 images is 100,000 Python objects; filtering, sorting and indexing them
takes a good part of a second. ``arrange`` does it on the thread that read the rows, so the UI
thread only swaps one finished value in (``DatasetImageModel.set_rows``).

    arranged = arrange(rows, spec, base=model.arranged)   # on a worker thread
    model.set_rows(arranged)                              # on the UI thread: no per-row work
"""
from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field

from studio.engine.datasets.filters import ImageFilter, ImageRow, filtered
from studio.ui.widgets.dataset_summary import Summary, summarize


@dataclass(frozen=True, slots=True)
class Shown:
    """What one filter lets through, and where each row and picture is in it."""

    ids: list[uuid.UUID]
    position: dict[uuid.UUID, int]
    by_sha: dict[str, list[uuid.UUID]]
    spec: ImageFilter


@dataclass(frozen=True, slots=True)
class Arranged:
    """A dataset's rows ready for the model. ``rows`` is updated in place by changed rows of
    the same ids (the model's ``update_rows``); a new read makes a new value."""

    rows: dict[uuid.UUID, ImageRow]
    order: list[uuid.UUID]  # import order
    shown: Shown
    summary: Summary
    same_ids: bool = False  # the ids are those of ``base``, the value it was compared with
    changed: list[ImageRow] = field(default_factory=list)  # rows that differ from ``base``'s
    base: dict[uuid.UUID, ImageRow] | None = None


EMPTY = ImageFilter()


def show(rows: dict[uuid.UUID, ImageRow], order: Sequence[uuid.UUID], spec: ImageFilter) -> Shown:
    ids = [r.id for r in filtered((rows[i] for i in order), spec)]
    by_sha: dict[str, list[uuid.UUID]] = {}
    for image_id in ids:
        by_sha.setdefault(rows[image_id].sha256, []).append(image_id)
    return Shown(ids=ids, position={image_id: p for p, image_id in enumerate(ids)}, by_sha=by_sha, spec=spec)


def arrange(rows: Sequence[ImageRow], spec: ImageFilter, base: Arranged | None = None) -> Arranged:
    """Blocking and thread-safe: ``rows`` indexed, filtered by ``spec``, summed up, and compared
    with ``base`` (the model's value when the read began)."""
    by_id = {r.id: r for r in rows}
    order = [r.id for r in rows]
    if base is not None and len(base.rows) == len(by_id) and base.rows.keys() == by_id.keys():
        old = base.rows
        changed = [r for r in rows if old.get(r.id) != r]
        return Arranged(rows=by_id, order=order, shown=show(by_id, order, spec), summary=summarize(rows),
                        same_ids=True, changed=changed, base=old)
    return Arranged(rows=by_id, order=order, shown=show(by_id, order, spec), summary=summarize(rows),
                    base=base.rows if base is not None else None)


def empty() -> Arranged:
    return Arranged(rows={}, order=[], shown=show({}, [], EMPTY), summary=summarize([]))
