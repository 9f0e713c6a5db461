"""The trash: deleted content waits here until restored or purged; purging removes its files.

A purge removes the rows and, after they are committed, every file the studio made of them in
the data folder: originals in the asset store, the dataset's folder, avatars, thumbnails (when
no other row shows the same content) and the copies a training took of a dataset. Files the
user put elsewhere (an export folder they chose) are theirs and stay.

A name in the trash still holds its place (the unique constraints count trashed rows, so a
restore can never clash); creating one by that name says so and names the restore and purge
commands (``name_in_trash``).
"""
from __future__ import annotations

import json
import shutil
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from studio.engine.core import Studio
from studio.engine.db.models import (
    TRASHABLE,
    Asset,
    Content,
    Dataset,
    DatasetImage,
    Influencer,
    LoraModel,
)
from studio.engine.db.repositories import Repository, label_of
from studio.engine.errors import Conflict, NotFound
from studio.engine.media.thumbnails import SIZES, thumbnail_path
from studio.engine.storage.local import LocalStore


@dataclass(frozen=True, slots=True)
class TrashItem:
    kind: str
    id: uuid.UUID
    name: str
    deleted_at: datetime | None


@dataclass(slots=True)
class _Files:
    """What a purge leaves to remove once its rows are gone."""

    keys: list[str] = field(default_factory=list)  # asset store files and folders
    shas: set[str] = field(default_factory=set)  # content whose thumbnails may go
    datasets: set[str] = field(default_factory=set)  # whose training copies go
    images: set[str] = field(default_factory=set)  # single images whose training copies go


def trash_items(studio: Studio, workspace_id: uuid.UUID) -> list[TrashItem]:
    with studio.db.session() as session:
        return [TrashItem(label_of(type(r)), r.id, _name(r), r.deleted_at)
                for r in Repository(session, workspace_id).trashed()]


def restore(studio: Studio, workspace_id: uuid.UUID, item: TrashItem) -> None:
    with studio.db.session() as session:
        repo = Repository(session, workspace_id)
        repo.restore(repo.get(TRASHABLE[item.kind], item.id, include_deleted=True))


def purge(studio: Studio, workspace_id: uuid.UUID, item: TrashItem) -> bool:
    """Deletes the record and its files; False when it was already gone (purged with its parent)."""
    with studio.db.session() as session:
        repo = Repository(session, workspace_id)
        try:
            record = repo.get(TRASHABLE[item.kind], item.id, include_deleted=True)
        except NotFound:
            return False
        files = _files_of(session, record)
        repo.purge(record)
    # After the commit: a failed purge must not lose files still referenced.
    store = LocalStore(studio.paths.assets_dir)
    for key in files.keys:
        store.delete(key)
    _drop_thumbnails(studio, files.shas)
    _drop_training_copies(studio.paths.data_dir / "training" / str(workspace_id), files)
    return True


def name_in_trash(session: Session, workspace_id: uuid.UUID, model: type[Content],
                  **where: Any) -> None:
    """Refuses a name that a trashed row still holds, saying how to free it."""
    query = select(model).filter_by(workspace_id=workspace_id, **where).where(
        model.deleted_at.is_not(None))
    held = session.scalars(query).first()
    if held is not None:
        kind, short = label_of(model), str(held.id)[:8]
        article = "An" if kind[0] in "aeiou" else "A"
        raise Conflict(f"{article} {kind} named '{_name(held)}' is in the trash: restore it "
                       f"(`trash restore {short}`) or purge it (`trash purge {short}`) to use "
                       "the name again.")


def _files_of(session: Session, record: object) -> _Files:
    files = _Files()
    if isinstance(record, Asset | LoraModel):
        files.keys.append(record.storage_key)
    if isinstance(record, Asset) and record.sha256:
        files.shas.add(record.sha256)
    if isinstance(record, DatasetImage):
        files.keys.append(record.storage_key)
        files.shas.add(record.sha256)
        files.images.add(str(record.id))
    if isinstance(record, Dataset):
        _dataset_files(session, record, files)
    if isinstance(record, Influencer):
        files.keys.extend(_drop_avatars(session, record))
        for dataset in session.scalars(select(Dataset).where(Dataset.influencer_id == record.id)):
            _dataset_files(session, dataset, files)  # the database deletes their rows with it
    return files


def _dataset_files(session: Session, dataset: Dataset, files: _Files) -> None:
    images = session.scalars(select(DatasetImage).where(DatasetImage.dataset_id == dataset.id))
    for image in images:  # trashed ones too: the database deletes every row of the dataset
        files.keys.append(image.storage_key)
        files.shas.add(image.sha256)
    files.keys.append(f"datasets/{dataset.workspace_id}/{dataset.id}")
    files.datasets.add(str(dataset.id))


def _drop_avatars(session: Session, influencer: Influencer) -> list[str]:
    query = select(Asset).where(Asset.workspace_id == influencer.workspace_id,
                                Asset.influencer_id == influencer.id, Asset.kind == "avatar")
    assets = session.scalars(query).all()
    for asset in assets:
        session.delete(asset)
    return [a.storage_key for a in assets] + [f"avatars/{influencer.workspace_id}/{influencer.id}"]


def _drop_thumbnails(studio: Studio, shas: set[str]) -> None:
    """Thumbnails are shared by content (any workspace): kept while another row shows it."""
    if not shas:
        return
    with studio.db.session() as session:
        kept = set(session.scalars(select(DatasetImage.sha256).where(DatasetImage.sha256.in_(shas))))
        kept |= set(session.scalars(select(Asset.sha256).where(Asset.sha256.in_(shas))))
    for sha in shas - kept:
        folder = thumbnail_path(studio.paths.cache_dir, sha, SIZES[0]).parent
        for path in folder.glob(f"{sha}-*"):  # today's .thumb files and older .png ones
            path.unlink(missing_ok=True)


def _drop_training_copies(training: Path, files: _Files) -> None:
    """The images a training copied out of a purged dataset (its LoRA and logs stay)."""
    if not (files.datasets or files.images) or not training.is_dir():
        return
    for manifest in training.glob("*/dataset/manifest.json"):
        try:
            data = json.loads(manifest.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if data.get("dataset_id") in files.datasets:
            shutil.rmtree(manifest.parent, ignore_errors=True)
            continue
        root = manifest.parent.resolve()
        for entry in data.get("images", []):
            if entry.get("image_id") in files.images:
                for name in (entry.get("file"), entry.get("caption_file")):
                    path = (root / str(name)).resolve()
                    if name and path.is_relative_to(root):  # a manifest names files inside
                        path.unlink(missing_ok=True)


def _name(record: object) -> str:
    for attribute in ("name", "original_name", "topic", "storage_key"):
        value = getattr(record, attribute, "")
        if value:
            return str(value)
    return ""
