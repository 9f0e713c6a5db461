"""Caption edits with undo and redo: single edits and batch tag operations, one step each.

Each step is one transaction: the images' new captions and a ``CaptionBatch`` row holding only
the changed images' before and after (``CaptionChange``), so a crash loses nothing and a batch
over 10,000 images costs 10,000 small rows, not a copy of the dataset. Undo writes the
``before`` texts back and marks the step undone; redo writes ``after``. A new edit after an
undo discards the steps that could have been redone, as editors do.
"""
from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Select, delete, func, insert, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from studio.engine.core import Studio
from studio.engine.datasets.tags import (
    AddTags,
    DedupeTags,
    InsertTrigger,
    MoveToFront,
    RemoveTags,
    RenameTag,
    ReplaceText,
    SortTags,
    TagOp,
    split_tags,
    transform,
)
from studio.engine.db.database import Database
from studio.engine.db.models import CaptionBatch, CaptionChange, Dataset, DatasetImage, Influencer
from studio.engine.errors import CaptionConflict, Conflict, NotFound

__all__ = ["AddTags", "DedupeTags", "HistoryState", "InsertTrigger", "MoveToFront", "RemoveTags",
           "RenameTag", "ReplaceText", "SortTags", "TagOp", "apply", "history", "redo",
           "set_caption", "set_captions", "set_excluded", "tag_frequency", "undo", "write_captions"]

HISTORY_LIMIT = 200  # steps kept per dataset; older ones are dropped with their changes
EDIT_LABEL = "Edit caption"
_CHUNK = 500  # ids per IN (...) clause, well under every database's parameter limit
CAPTION, EXCLUDED = "caption", "excluded"  # the value a step changes (CaptionChange.field)


@dataclass(frozen=True, slots=True)
class HistoryState:
    can_undo: bool
    can_redo: bool
    undo_label: str
    redo_label: str


def set_caption(studio: Studio, dataset: Dataset, image_id: uuid.UUID, text: str, *,
                merge: bool = False, expected: str | None = None) -> None:
    """One undoable step. ``merge=True`` (for an editor saving while the user types) folds the
    edit into the previous step when that step was an edit of this same image. ``expected``: the
    caption the editor started from; another one there now (an auto-caption, another window)
    refuses the write with ``CaptionConflict`` instead of replacing it unseen."""
    with studio.db.session() as session:
        image = _image(session, dataset, image_id)
        if image.caption == text:
            return
        if expected is not None and image.caption != expected:
            raise CaptionConflict("This caption was changed elsewhere while you edited it.",
                                  current=image.caption)
        if merge and _merge_into_last(session, dataset, image, text):
            return
        _record(session, dataset, EDIT_LABEL, [(image, text)])


def set_captions(studio: Studio, dataset: Dataset, captions: Mapping[uuid.UUID, str], *,
                 label: str) -> int:
    """Several images' new captions as one undoable step; returns how many changed."""
    return write_captions(studio.db, dataset, captions, label=label)


def write_captions(db: Database, dataset: Dataset, captions: Mapping[uuid.UUID, str], *,
                   label: str) -> int:
    """``set_captions`` for code that has a database but no Studio (job handlers)."""
    with db.session() as session:
        images = _images(session, dataset, list(captions))
        changed = [(image, captions[image.id]) for image in images if image.caption != captions[image.id]]
        if changed:
            _record(session, dataset, label, changed)
        return len(changed)


def apply(studio: Studio, dataset: Dataset, op: TagOp,
          image_ids: Sequence[uuid.UUID] | None = None) -> int:
    """Runs ``op`` over the given images (all when None) as one undoable step; returns how many
    images changed. Images the op leaves as they were are not recorded."""
    with studio.db.session() as session:
        trigger = _trigger(session, dataset)
        images = _images(session, dataset, image_ids)
        changed = []
        for image in images:
            after = transform(op, image.caption, dataset.tag_separator, trigger)
            if after != image.caption:
                changed.append((image, after))
        if changed:
            _record(session, dataset, op.label, changed)
        return len(changed)


def set_excluded(studio: Studio, dataset: Dataset, image_ids: Sequence[uuid.UUID], excluded: bool, *,
                 label: str = "") -> int:
    """Excludes (or brings back) these images as one undoable step; returns how many changed."""
    with studio.db.session() as session:
        images = [i for i in _images(session, dataset, image_ids) if i.excluded != excluded]
        if images:
            verb = "Exclude" if excluded else "Bring back"
            noun = (images[0].original_name or "1 image") if len(images) == 1 else f"{len(images)} images"
            _record(session, dataset, label or f"{verb} {noun}",
                    [(image, _flag(excluded)) for image in images], field=EXCLUDED)
        return len(images)


def undo(studio: Studio, dataset: Dataset) -> str | None:
    """Reverts the latest step; returns its label, or None when there is nothing to undo."""
    return _replay(studio, dataset, undoing=True)


def redo(studio: Studio, dataset: Dataset) -> str | None:
    """Applies the earliest undone step again; returns its label, or None."""
    return _replay(studio, dataset, undoing=False)


def _replay(studio: Studio, dataset: Dataset, *, undoing: bool) -> str | None:
    with studio.db.session() as session:
        step = _last_done(session, dataset) if undoing else _first_undone(session, dataset)
        if step is None:
            return None
        _write_back(session, dataset, step, use_before=undoing)
        step.undone = undoing
        return step.label


def history(studio: Studio, dataset: Dataset) -> HistoryState:
    with studio.db.session() as session:
        done, undone = _last_done(session, dataset), _first_undone(session, dataset)
        return HistoryState(can_undo=done is not None, can_redo=undone is not None,
                            undo_label=done.label if done else "",
                            redo_label=undone.label if undone else "")


def tag_frequency(studio: Studio, dataset: Dataset,
                  image_ids: Sequence[uuid.UUID] | None = None) -> list[tuple[str, int]]:
    """How many images carry each tag (a tag twice in one caption counts once), most used first,
    ties by name."""
    with studio.db.session() as session:
        return count_tags(_captions(session, dataset, image_ids), dataset.tag_separator)


def count_tags(captions: Iterable[str], separator: str) -> list[tuple[str, int]]:
    """``tag_frequency`` of captions already read."""
    counts: Counter[str] = Counter()
    for caption in captions:
        counts.update(set(split_tags(caption, separator)))
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))


# Internals ------------------------------------------------------------------------------------


def _in_dataset(dataset: Dataset) -> tuple[ColumnElement[bool], ColumnElement[bool]]:
    return (DatasetImage.workspace_id == dataset.workspace_id,
            DatasetImage.dataset_id == dataset.id)


def _image(session: Session, dataset: Dataset, image_id: uuid.UUID) -> DatasetImage:
    image = session.get(DatasetImage, image_id)
    if (image is None or image.workspace_id != dataset.workspace_id
            or image.dataset_id != dataset.id or image.deleted_at is not None):
        raise NotFound(f"No image with id '{image_id}' in dataset '{dataset.name}'.")
    return image


def _images(session: Session, dataset: Dataset,
            image_ids: Sequence[uuid.UUID] | None) -> list[DatasetImage]:
    base = (select(DatasetImage).where(*_in_dataset(dataset), DatasetImage.deleted_at.is_(None))
            .order_by(DatasetImage.created_at, DatasetImage.id))
    if image_ids is None:
        return list(session.scalars(base).all())
    found: list[DatasetImage] = []
    for chunk in _chunks(list(dict.fromkeys(image_ids))):
        found.extend(session.scalars(base.where(DatasetImage.id.in_(chunk))).all())
    return found


def _captions(session: Session, dataset: Dataset,
              image_ids: Sequence[uuid.UUID] | None) -> Iterator[str]:
    base = select(DatasetImage.caption).where(*_in_dataset(dataset), DatasetImage.deleted_at.is_(None))
    if image_ids is None:
        yield from session.scalars(base)
        return
    for chunk in _chunks(list(dict.fromkeys(image_ids))):
        yield from session.scalars(base.where(DatasetImage.id.in_(chunk)))


def _chunks(ids: list[uuid.UUID]) -> Iterator[list[uuid.UUID]]:
    for start in range(0, len(ids), _CHUNK):
        yield ids[start:start + _CHUNK]


def _trigger(session: Session, dataset: Dataset) -> str:
    influencer = session.get(Influencer, dataset.influencer_id)
    return influencer.trigger_word if influencer is not None else ""


def _flag(value: bool) -> str:
    return "yes" if value else "no"


def _set(image: DatasetImage, text: str, separator: str, field: str = CAPTION) -> None:
    if field == EXCLUDED:
        image.excluded = text == "yes"
        return
    # ``tags`` mirrors the caption so filters can read tags without splitting every caption.
    image.caption = text
    image.tags = split_tags(text, separator)


def _record(session: Session, dataset: Dataset, label: str,
            changed: list[tuple[DatasetImage, str]], field: str = CAPTION) -> None:
    """Writes the new captions and the step that undoes them, in the caller's transaction."""
    _drop_redo(session, dataset)
    step = CaptionBatch(id=uuid.uuid4(), workspace_id=dataset.workspace_id, dataset_id=dataset.id,
                        label=label[:200], seq=_next_seq(session, dataset), undone=False)
    session.add(step)
    session.flush()
    session.execute(insert(CaptionChange), [
        {"id": uuid.uuid4(), "batch_id": step.id, "image_id": image.id, "field": field,
         "before": _flag(image.excluded) if field == EXCLUDED else image.caption,
         "after": text} for image, text in changed])
    for image, text in changed:
        _set(image, text, dataset.tag_separator, field)
    _flush(session)
    _trim(session, dataset)


def _merge_into_last(session: Session, dataset: Dataset, image: DatasetImage, text: str) -> bool:
    step = _last_done(session, dataset)
    if step is None or step.label != EDIT_LABEL or _first_undone(session, dataset) is not None:
        return False
    changes = session.scalars(select(CaptionChange).where(CaptionChange.batch_id == step.id)).all()
    if len(changes) != 1 or changes[0].image_id != image.id or changes[0].field != CAPTION:
        return False
    changes[0].after = text
    _set(image, text, dataset.tag_separator)
    _flush(session)
    return True


def _write_back(session: Session, dataset: Dataset, step: CaptionBatch, *, use_before: bool) -> None:
    changes = session.scalars(select(CaptionChange).where(CaptionChange.batch_id == step.id)).all()
    values = {c.image_id: (c.field, c.before if use_before else c.after) for c in changes}
    for chunk in _chunks(list(values)):
        # Trashed images too: restoring one from the trash later should show the undone text.
        query = select(DatasetImage).where(*_in_dataset(dataset), DatasetImage.id.in_(chunk))
        for image in session.scalars(query):
            field, text = values[image.id]
            _set(image, text, dataset.tag_separator, field)
    _flush(session)


def _steps(dataset: Dataset) -> Select[CaptionBatch]:
    return select(CaptionBatch).where(CaptionBatch.workspace_id == dataset.workspace_id,
                                      CaptionBatch.dataset_id == dataset.id)


def _last_done(session: Session, dataset: Dataset) -> CaptionBatch | None:
    query = _steps(dataset).where(CaptionBatch.undone.is_(False)).order_by(CaptionBatch.seq.desc())
    return session.scalars(query.limit(1)).first()


def _first_undone(session: Session, dataset: Dataset) -> CaptionBatch | None:
    query = _steps(dataset).where(CaptionBatch.undone.is_(True)).order_by(CaptionBatch.seq)
    return session.scalars(query.limit(1)).first()


def _next_seq(session: Session, dataset: Dataset) -> int:
    latest = session.scalar(select(func.max(CaptionBatch.seq)).where(
        CaptionBatch.workspace_id == dataset.workspace_id, CaptionBatch.dataset_id == dataset.id))
    return int(latest or 0) + 1


def _drop_redo(session: Session, dataset: Dataset) -> None:
    ids = list(session.scalars(_steps(dataset).where(CaptionBatch.undone.is_(True))
                               .with_only_columns(CaptionBatch.id)))
    _delete_steps(session, ids)


def _trim(session: Session, dataset: Dataset) -> None:
    ids = list(session.scalars(_steps(dataset).with_only_columns(CaptionBatch.id)
                               .order_by(CaptionBatch.seq.desc()).offset(HISTORY_LIMIT)))
    _delete_steps(session, ids)


def _delete_steps(session: Session, ids: list[uuid.UUID]) -> None:
    # Changes first: not every database enforces ON DELETE CASCADE (SQLite needs a pragma).
    for chunk in _chunks(ids):
        session.execute(delete(CaptionChange).where(CaptionChange.batch_id.in_(chunk)))
        session.execute(delete(CaptionBatch).where(CaptionBatch.id.in_(chunk)))


def _flush(session: Session) -> None:
    try:
        session.flush()
    except StaleDataError as exc:
        raise Conflict("A caption was changed elsewhere at the same time; reload and try again.") from exc
