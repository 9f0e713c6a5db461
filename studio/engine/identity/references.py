"""An influencer's reference faces: what "her" face is, stored on ``Influencer.identity``.

By default ("auto") the references are the largest cluster of faces across her datasets, found
again after every analysis of one of them. The user may choose instead: her portrait, dataset
pictures marked as reference (her face in each), picture files (only the descriptor and the
file's name are kept), or one cluster of a dataset's faces. The centroid (the references' mean)
is what every score is measured against; its ``revision`` goes up whenever it changes, and each
change re-judges her datasets.

A cluster of thousands of faces is stored as its ``REFERENCE_LIMIT`` members nearest its mean:
the centroid barely moves, and the influencer's row stays small.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import select

from studio.engine.db.models import Asset, Dataset, DatasetImage, Influencer
from studio.engine.db.types import utcnow
from studio.engine.errors import InvalidInput, NotFound
from studio.engine.identity import descriptors, model
from studio.engine.identity.clusters import cluster
from studio.engine.identity.dataset import dataset_faces, judge_dataset
from studio.engine.identity.scoring import picture_faces
from studio.engine.parts import StudioParts
from studio.engine.storage.local import LocalStore

REFERENCE_LIMIT = 50


@dataclass(frozen=True, slots=True)
class Added:
    """A reference just added; ``faces`` is how many faces its picture has (the biggest, or her
    face, was taken)."""

    reference: dict[str, Any]
    faces: int

    @property
    def note(self) -> str:
        if self.faces < 2:
            return ""
        return f"{self.faces} faces in {self.reference['name']}: the biggest was taken"


def references_of(studio: StudioParts, influencer_id: uuid.UUID) -> list[dict[str, Any]]:
    """Her references as stored (source, image_id, name, descriptor), in order."""
    return list(identity_of(studio, influencer_id).get("references") or [])


def identity_of(studio: StudioParts, influencer_id: uuid.UUID) -> dict[str, Any]:
    """``Influencer.identity`` with its defaults filled in (auto, no references, revision 0)."""
    with studio.db.session() as session:
        stored = dict(_influencer(session, influencer_id).identity or {})
    return {"references": [], "auto": True, "centroid": None, "revision": 0, "updated_at": None, **stored}


def add_image_reference(studio: StudioParts, influencer_id: uuid.UUID, image_id: uuid.UUID) -> Added:
    """Her face in one of her dataset pictures becomes a chosen reference (the face the verdict
    names, else the biggest). Raises InvalidInput when the picture has no described face."""
    with studio.db.session() as session:
        image = session.get(DatasetImage, image_id)
        dataset = session.get(Dataset, image.dataset_id) if image is not None else None
        if image is None or dataset is None or dataset.influencer_id != influencer_id or image.deleted_at:
            raise NotFound("This picture is not in one of her datasets.")
        faces, stored = list(image.faces or []), list(image.face_descriptors or [])
        if not faces or len(stored) != len(faces):
            raise InvalidInput(f"{image.original_name}: no face was found and described in it "
                               "(analyse the dataset first).")
        face = (image.identity or {}).get("face")
        known = isinstance(face, int) and 0 <= face < len(faces)
        chosen = face if isinstance(face, int) and known else _biggest(faces)
        reference = _reference("image", str(image.id), image.original_name, str(stored[chosen]))
    _choose(studio, influencer_id, [reference], keep=True)
    return Added(reference, faces=1 if known else len(faces))


def add_file_reference(studio: StudioParts, influencer_id: uuid.UUID, path: Path) -> Added:
    """A picture file's biggest face becomes a chosen reference (the file is not kept). Raises
    InvalidInput (unreadable, no face) or model.ModelUnavailable."""
    path = Path(path)
    found, boxes = _faces_of(path)
    biggest = _biggest([list(b) for b in boxes])
    reference = _reference("file", None, path.name, descriptors.encode(found[biggest]))
    _influencer_exists(studio, influencer_id)
    _choose(studio, influencer_id, [reference], keep=True)
    return Added(reference, faces=len(found))


def add_portrait_reference(studio: StudioParts, influencer_id: uuid.UUID) -> Added:
    """Her portrait becomes a chosen reference; it must show exactly one face."""
    found = _portrait_faces(studio, influencer_id)
    if found is None:
        raise InvalidInput("She has no portrait yet (influencer avatar NAME IMAGE).")
    if len(found) != 1:
        raise InvalidInput(f"Her portrait shows {len(found) or 'no'} face{'' if len(found) == 1 else 's'}; "
                           "a reference portrait shows exactly one.")
    reference = _reference("portrait", None, "portrait", descriptors.encode(found[0]))
    _choose(studio, influencer_id, [reference], keep=True)
    return Added(reference, faces=1)


def use_dataset_cluster(studio: StudioParts, influencer_id: uuid.UUID, dataset_id: uuid.UUID,
                        number: int = 1) -> list[dict[str, Any]]:
    """Cluster ``number`` of one of her datasets (1: the largest, as its verdicts number them)
    becomes her chosen references."""
    with studio.db.session() as session:
        dataset = session.get(Dataset, dataset_id)
        if dataset is None or dataset.influencer_id != influencer_id or dataset.deleted_at is not None:
            raise NotFound("This dataset is not one of hers.")
    found = _largest_cluster(studio, [dataset_id], number)
    if not found:
        raise InvalidInput(f"No face cluster {number} in dataset '{dataset.name}' (analyse it first).")
    _choose(studio, influencer_id, found, keep=False)
    return found


def remove_reference(studio: StudioParts, influencer_id: uuid.UUID, index: int) -> dict[str, Any]:
    """Takes out reference ``index`` (0-based, in ``references_of`` order); returns it. The
    others stay chosen (removing the last leaves her with none until she is given one or set
    back to auto)."""
    references = references_of(studio, influencer_id)
    if not 0 <= index < len(references):
        raise InvalidInput(f"There is no reference {index + 1} (she has {len(references)}).")
    removed = references.pop(index)
    _save(studio, influencer_id, references, auto=False)
    return removed


def use_largest_cluster(studio: StudioParts, influencer_id: uuid.UUID) -> dict[str, Any]:
    """Back to auto: the largest cluster of faces across her datasets. Returns her identity."""
    return _save(studio, influencer_id, _auto_references(studio, influencer_id), auto=True)


def refresh(studio: StudioParts, influencer_id: uuid.UUID) -> dict[str, Any]:
    """Recomputes her references (auto mode) and centroid, bumps the revision when it changed,
    then re-judges her datasets. Returns her identity."""
    current = identity_of(studio, influencer_id)
    if current["auto"]:
        return _save(studio, influencer_id, _auto_references(studio, influencer_id), auto=True)
    return _save(studio, influencer_id, list(current["references"]), auto=False)


def after_analysis(studio: StudioParts, dataset_id: uuid.UUID) -> None:
    """What an analysis of one of her datasets changes: in auto mode her references (and so every
    dataset's verdicts), else this dataset's verdicts."""
    with studio.db.session() as session:
        dataset = session.get(Dataset, dataset_id)
        if dataset is None:
            return
        influencer_id = dataset.influencer_id
    if identity_of(studio, influencer_id)["auto"]:
        refresh(studio, influencer_id)
    else:
        judge_dataset(studio, dataset_id)


def _choose(studio: StudioParts, influencer_id: uuid.UUID, added: list[dict[str, Any]], *,
            keep: bool) -> None:
    """Chosen references: ``added`` after those already chosen (``keep``), or instead of them;
    an auto list is never kept (choosing starts the chosen list)."""
    current = identity_of(studio, influencer_id)
    kept = list(current["references"]) if keep and not current["auto"] else []
    _save(studio, influencer_id, kept + added, auto=False)


def _save(studio: StudioParts, influencer_id: uuid.UUID, references: list[dict[str, Any]], *,
          auto: bool) -> dict[str, Any]:
    vectors = [descriptors.decode(str(r["descriptor"])) for r in references]
    centroid = descriptors.encode(descriptors.centroid(vectors)) if vectors else None
    with studio.db.session() as session:
        influencer = _influencer(session, influencer_id)
        before = dict(influencer.identity or {})
        revision = int(before.get("revision") or 0) + (centroid != before.get("centroid"))
        identity = {"references": references, "auto": auto, "centroid": centroid,
                    "revision": revision, "updated_at": utcnow().isoformat()}
        unchanged = {k: v for k, v in identity.items() if k != "updated_at"} == {
            k: before.get(k) for k in identity if k != "updated_at"}
        if not unchanged:
            influencer.identity = identity
        dataset_ids = list(session.scalars(select(Dataset.id).where(
            Dataset.influencer_id == influencer_id, Dataset.deleted_at.is_(None))))
    for dataset_id in dataset_ids:
        judge_dataset(studio, dataset_id)
    return before if unchanged else identity


def _auto_references(studio: StudioParts, influencer_id: uuid.UUID) -> list[dict[str, Any]]:
    """The largest cluster across her datasets; her portrait when they hold no described face."""
    with studio.db.session() as session:
        dataset_ids = list(session.scalars(select(Dataset.id).where(
            Dataset.influencer_id == influencer_id, Dataset.deleted_at.is_(None))))
    found = _largest_cluster(studio, dataset_ids)
    if found:
        return found
    try:
        portrait = _portrait_faces(studio, influencer_id)
    except (InvalidInput, model.ModelUnavailable):
        return []
    if portrait is None or len(portrait) != 1:
        return []
    return [_reference("portrait", None, "portrait", descriptors.encode(portrait[0]))]


def _largest_cluster(studio: StudioParts, dataset_ids: list[uuid.UUID], number: int = 1) -> list[dict[str, Any]]:
    """References from the largest cluster of faces in these datasets (or cluster ``number``):
    its members nearest its mean."""
    # The columns the faces need, not whole rows: after each import this reads all her pictures
    query = (select(DatasetImage.id, DatasetImage.original_name, DatasetImage.faces, DatasetImage.face_descriptors)
             .where(DatasetImage.dataset_id.in_(dataset_ids), DatasetImage.deleted_at.is_(None))
             .order_by(DatasetImage.created_at, DatasetImage.source_name))
    with studio.db.session() as session:
        images = list(session.execute(query)) if dataset_ids else []
    faces = dataset_faces(images)
    if len(faces.vectors) == 0:
        return []
    members = np.nonzero(cluster(faces.vectors) == number)[0]
    if not len(members):
        return []
    mean = faces.vectors[members].mean(axis=0)
    nearest = members[np.argsort(np.linalg.norm(faces.vectors[members] - mean, axis=1), kind="stable")]
    names = {image.id: image.original_name for image in images}
    return [_reference("cluster", str(faces.owner[i]), names[faces.owner[i]],
                       descriptors.encode(faces.vectors[i])) for i in nearest[:REFERENCE_LIMIT]]


def _portrait_faces(studio: StudioParts, influencer_id: uuid.UUID) -> list[np.ndarray] | None:
    """The descriptors of the faces in her portrait; None when she has none."""
    with studio.db.session() as session:
        influencer = _influencer(session, influencer_id)
        asset = session.get(Asset, influencer.avatar_asset_id) if influencer.avatar_asset_id else None
        if asset is None or asset.deleted_at is not None:
            return None
        path = LocalStore(studio.paths.assets_dir).path(asset.storage_key)
    return _faces_of(path, allow_none=True)[0]


def _faces_of(path: Path, *, allow_none: bool = False) -> tuple[list[np.ndarray], list[tuple[int, int, int, int]]]:
    try:
        found, boxes = picture_faces(path)
    except ValueError as exc:
        raise InvalidInput(f"{path.name}: {exc}.") from None
    if not found and not allow_none:
        raise InvalidInput(f"No face found in {path.name}.")
    return found, boxes


def _biggest(faces: list[Any]) -> int:
    return max(range(len(faces)), key=lambda i: int(faces[i][2]) * int(faces[i][3]))


def _reference(source: str, image_id: str | None, name: str, descriptor: str) -> dict[str, Any]:
    return {"source": source, "image_id": image_id, "name": name, "descriptor": descriptor}


def _influencer_exists(studio: StudioParts, influencer_id: uuid.UUID) -> None:
    with studio.db.session() as session:
        _influencer(session, influencer_id)


def _influencer(session: Any, influencer_id: uuid.UUID) -> Influencer:
    influencer = session.get(Influencer, influencer_id)
    if influencer is None or influencer.deleted_at is not None:
        raise NotFound("This influencer does not exist (she may have been deleted).")
    return influencer  # type: ignore[no-any-return]
