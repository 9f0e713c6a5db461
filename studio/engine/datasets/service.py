"""Datasets of an influencer and their images: create, find, list, and change one image."""
from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select

from studio.engine.core import Studio
from studio.engine.db.models import Dataset, DatasetImage, Influencer
from studio.engine.db.repositories import Repository, clean_name
from studio.engine.errors import Conflict, InvalidInput, NotFound
from studio.engine.influencers import get_influencer
from studio.engine.parts import StudioParts
from studio.engine.trash import name_in_trash

EDITABLE = {"crop", "crop_manual", "excluded"}


def create_dataset(studio: Studio, workspace_id: uuid.UUID, influencer_ref: uuid.UUID | str,
                   name: str, *, class_token: str = "", repeats: int = 10,
                   tag_separator: str = ",") -> Dataset:
    name = clean_name(name, what="dataset")
    options = _options(class_token=class_token, repeats=repeats, tag_separator=tag_separator)
    influencer = get_influencer(studio, workspace_id, influencer_ref)
    with studio.db.session() as session:
        repo = Repository(session, workspace_id)
        if repo.find(Dataset, influencer_id=influencer.id, name=name) is not None:
            raise Conflict(f"{influencer.name} already has a dataset named '{name}'.")
        name_in_trash(session, workspace_id, Dataset, influencer_id=influencer.id, name=name)
        return repo.add(Dataset(influencer_id=influencer.id, name=name, **options))


def update_dataset(studio: Studio, workspace_id: uuid.UUID, dataset_id: uuid.UUID, *,
                   class_token: str | None = None, repeats: int | None = None,
                   tag_separator: str | None = None) -> Dataset:
    """Changes the kohya folder options or the tag separator; None leaves a value as it is."""
    options = _options(class_token=class_token, repeats=repeats, tag_separator=tag_separator)
    with studio.db.session() as session:
        repo = Repository(session, workspace_id)
        return repo.update(repo.get(Dataset, dataset_id), **options)


def _options(*, class_token: str | None, repeats: int | None,
             tag_separator: str | None) -> dict[str, Any]:
    options: dict[str, Any] = {}
    if class_token is not None:
        options["class_token"] = " ".join(class_token.split())
    if repeats is not None:
        if not 1 <= repeats <= 1000:
            raise InvalidInput("Repeats must be between 1 and 1000.")
        options["repeats"] = repeats
    if tag_separator is not None:
        # A word character would split tags in the middle of words.
        if not tag_separator.strip() or len(tag_separator) > 3 or any(c.isalnum() for c in tag_separator):
            raise InvalidInput(f"'{tag_separator}' cannot separate tags; use punctuation such as ',' ';' '|'.")
        options["tag_separator"] = tag_separator.strip()
    return options


def list_datasets(studio: Studio, workspace_id: uuid.UUID,
                  influencer_ref: uuid.UUID | str | None = None) -> Sequence[Dataset]:
    with studio.db.session() as session:
        repo = Repository(session, workspace_id)
        if influencer_ref is None:
            return repo.list(Dataset, order_by=Dataset.name)
        influencer = get_influencer(studio, workspace_id, influencer_ref)
        return repo.list(Dataset, order_by=Dataset.name, influencer_id=influencer.id)


def get_dataset(studio: Studio, workspace_id: uuid.UUID, ref: uuid.UUID | str,
                influencer_ref: uuid.UUID | str | None = None) -> Dataset:
    """By id, or by name (within the influencer when one is given)."""
    with studio.db.session() as session:
        repo = Repository(session, workspace_id)
        if isinstance(ref, str) and influencer_ref is not None:
            influencer = get_influencer(studio, workspace_id, influencer_ref)
            found = repo.find(Dataset, influencer_id=influencer.id, name=" ".join(ref.split()))
            if found is None:
                raise NotFound(f"{influencer.name} has no dataset named '{ref}'.")
            return found
        if isinstance(ref, str):
            matches = repo.list(Dataset, name=" ".join(ref.split()))
            if len(matches) == 1:
                return matches[0]
            if len(matches) > 1:
                raise InvalidInput(f"Several influencers have a dataset named '{ref}'; name the influencer.")
        return repo.get(Dataset, ref)


def dataset_influencer(studio: Studio, dataset: Dataset) -> Influencer:
    with studio.db.session() as session:
        return Repository(session, dataset.workspace_id).get(Influencer, dataset.influencer_id)


def list_images(studio: StudioParts, dataset: Dataset) -> Sequence[DatasetImage]:
    """Every image of the dataset (not in the trash), in import order."""
    with studio.db.session() as session:
        query = (select(DatasetImage)
                 .where(DatasetImage.workspace_id == dataset.workspace_id,
                        DatasetImage.dataset_id == dataset.id, DatasetImage.deleted_at.is_(None))
                 .order_by(DatasetImage.created_at, DatasetImage.source_name))
        return session.scalars(query).all()


def image_ids(studio: Studio, dataset: Dataset) -> list[uuid.UUID]:
    """Only the ids: what a 10,000-image grid loads first."""
    with studio.db.session() as session:
        query = (select(DatasetImage.id)
                 .where(DatasetImage.workspace_id == dataset.workspace_id,
                        DatasetImage.dataset_id == dataset.id, DatasetImage.deleted_at.is_(None))
                 .order_by(DatasetImage.created_at, DatasetImage.source_name))
        return list(session.scalars(query).all())


def update_image(studio: Studio, workspace_id: uuid.UUID, image_id: uuid.UUID, **fields: Any) -> DatasetImage:
    """Changes crop or exclusion. Captions go through ``captions`` so they can be undone."""
    unknown = set(fields) - EDITABLE
    if unknown:
        raise InvalidInput(f"{', '.join(sorted(unknown))} cannot be changed here.")
    with studio.db.session() as session:
        repo = Repository(session, workspace_id)
        return repo.update(repo.get(DatasetImage, image_id), **fields)


def trash_images(studio: Studio, dataset: Dataset, image_ids: Sequence[uuid.UUID]) -> list[uuid.UUID]:
    """Moves these pictures of ``dataset`` to the trash (restorable); returns those moved."""
    with studio.db.session() as session:
        repo = Repository(session, dataset.workspace_id)
        images = session.scalars(select(DatasetImage).where(
            DatasetImage.workspace_id == dataset.workspace_id, DatasetImage.dataset_id == dataset.id,
            DatasetImage.id.in_(list(image_ids)), DatasetImage.deleted_at.is_(None))).all()
        return [repo.trash(image).id for image in images]


def restore_images(studio: Studio, dataset: Dataset, image_ids: Sequence[uuid.UUID]) -> int:
    """Brings pictures of ``dataset`` back from the trash (an Undo of ``trash_images``)."""
    with studio.db.session() as session:
        repo = Repository(session, dataset.workspace_id)
        images = session.scalars(select(DatasetImage).where(
            DatasetImage.workspace_id == dataset.workspace_id, DatasetImage.dataset_id == dataset.id,
            DatasetImage.id.in_(list(image_ids)), DatasetImage.deleted_at.is_not(None))).all()
        return len([repo.restore(image) for image in images])
