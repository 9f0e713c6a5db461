"""Identity verdicts on a dataset's pictures: which face is hers, how far it is from her references,
and the flags a creator filters by ("different_person", "several_people", "no_face").

``judge_dataset`` writes ``DatasetImage.identity`` (format in the architecture notes) for every
analysed picture, only where the verdict changed (so the change log tells the pages exactly what
moved), and re-frames the automatic crop of a group picture on her face. Distances are computed
with numpy over all the dataset's descriptors at once: 10,000 pictures are one matrix step.
"""
from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
from sqlalchemy import select

from studio.engine.core import Studio
from studio.engine.datasets import captions
from studio.engine.datasets.crops import DEFAULT_TARGET, her_faces, suggest_crop
from studio.engine.db.models import Dataset, DatasetImage, Influencer
from studio.engine.errors import InvalidInput, NotFound
from studio.engine.identity import descriptors
from studio.engine.identity.clusters import cluster
from studio.engine.identity.scoring import centroid_of
from studio.engine.parts import StudioParts

DIFFERENT, SEVERAL, NO_FACE = "different_person", "several_people", "no_face"
FLAGS = (DIFFERENT, SEVERAL, NO_FACE)
LABELS = {DIFFERENT: "different person", SEVERAL: "several people", NO_FACE: "no face"}
CLIP_KEY = "clip"  # a clip's facts in the quality scores: a clip's crop is not ours to frame


@dataclass(frozen=True, slots=True)
class Cluster:
    number: int  # 1 = the largest
    members: tuple[tuple[uuid.UUID, int], ...]  # (image id, index into its faces)
    size: int


@dataclass(frozen=True, slots=True)
class _Faces:
    """Every described face of a dataset, stacked: row i is face ``index[i]`` of ``owner[i]``."""

    vectors: np.ndarray
    owner: list[uuid.UUID]
    index: list[int]


def judge_dataset(studio: StudioParts, dataset_id: uuid.UUID) -> int:
    """Writes each analysed picture's verdict against her references; returns how many changed."""
    dataset = _dataset(studio, dataset_id)
    with studio.db.session() as session:
        influencer = session.get(Influencer, dataset.influencer_id)
        identity = dict(influencer.identity or {}) if influencer is not None else {}
        images = list(session.scalars(_query(dataset)))
        faces = _stack(images)
        numbers = _cluster_numbers(faces)
        gaps = _gaps(faces, centroid_of(identity))
        revision = int(identity.get("revision") or 0)
        changed = 0
        for image in images:
            verdict = verdict_of(image, gaps.get(image.id), numbers.get(image.id, {}), revision)
            if verdict != image.identity:
                _reframe(image, verdict)
                image.identity = verdict
                changed += 1
        return changed


def verdict_of(image: DatasetImage, gaps: np.ndarray | None, numbers: dict[int, int],
               revision: int) -> dict[str, Any] | None:
    """The identity verdict of one picture (None before it is analysed), given its faces'
    distances to her centroid (None when either is unknown)."""
    if image.analyzed_at is None:
        return None
    faces = list(image.faces or [])
    flags = [NO_FACE] if not faces else [SEVERAL] if len(faces) > 1 else []
    distance = face = None
    if gaps is not None and len(gaps) == len(faces) and faces:
        face = int(np.argmin(gaps))
        distance = round(float(gaps[face]), 4)
        if distance > descriptors.SAME_PERSON_DISTANCE:
            flags.insert(0, DIFFERENT)
    return {"distance": distance, "score": None if distance is None else descriptors.score(distance),
            "face": face, "flags": flags, "cluster": [numbers.get(i) for i in range(len(faces))],
            "revision": revision}


def flag_counts(studio: StudioParts, dataset_id: uuid.UUID) -> dict[str, int]:
    """How many pictures carry each flag (every flag named, 0 where none)."""
    counts: Counter[str] = Counter()
    for verdict in _verdicts(studio, dataset_id).values():
        counts.update(verdict.get("flags") or [])
    return {flag: counts.get(flag, 0) for flag in FLAGS}


def flagged_ids(studio: StudioParts, dataset_id: uuid.UUID, flag: str) -> list[uuid.UUID]:
    """The pictures carrying ``flag``, in import order."""
    _check_flag(flag)
    return [i for i, verdict in _verdicts(studio, dataset_id).items() if flag in (verdict.get("flags") or [])]


def verdict_rows(studio: StudioParts, dataset_id: uuid.UUID) -> list[dict[str, Any]]:
    """Per picture, in import order: id, name, identity_distance, identity_score and flags (what
    ``dataset analyze --json`` lists); None and [] where a picture has no verdict yet."""
    dataset = _dataset(studio, dataset_id)
    query = select(DatasetImage.id, DatasetImage.original_name, DatasetImage.identity).where(
        DatasetImage.workspace_id == dataset.workspace_id, DatasetImage.dataset_id == dataset.id,
        DatasetImage.deleted_at.is_(None)).order_by(DatasetImage.created_at, DatasetImage.source_name)
    with studio.db.session() as session:
        found = list(session.execute(query))
    return [{"id": image_id, "name": name, "identity_distance": (verdict or {}).get("distance"),
             "identity_score": (verdict or {}).get("score"), "flags": list((verdict or {}).get("flags") or [])}
            for image_id, name, verdict in found]


def clusters(studio: StudioParts, dataset_id: uuid.UUID) -> list[Cluster]:
    """The dataset's faces grouped by person, largest first (a face alone is a cluster of one)."""
    found: dict[int, list[tuple[uuid.UUID, int]]] = {}
    for image_id, verdict in _verdicts(studio, dataset_id).items():
        for index, number in enumerate(verdict.get("cluster") or []):
            if number is not None:
                found.setdefault(int(number), []).append((image_id, index))
    return [Cluster(number=n, members=tuple(found[n]), size=len(found[n])) for n in sorted(found)]


def exclude_flagged(studio: Studio, dataset_id: uuid.UUID, flag: str) -> int:
    """Excludes the pictures carrying ``flag`` as one undoable step (the dataset's undo brings
    them back); returns how many were excluded now."""
    ids = flagged_ids(studio, dataset_id, flag)
    dataset = _dataset(studio, dataset_id)
    noun = "1 picture" if len(ids) == 1 else f"{len(ids)} pictures"
    return captions.set_excluded(studio, dataset, ids, True, label=f"Exclude {noun}: {LABELS[flag]}")


class Described(Protocol):
    """What stacking faces reads of a picture: a DatasetImage, or a row of these columns."""

    id: uuid.UUID
    faces: Any
    face_descriptors: Any


def dataset_faces(images: Sequence[Described]) -> _Faces:
    """The described faces of ``images``, stacked (for the references' largest cluster too)."""
    return _stack(images)


def _stack(images: Sequence[Described]) -> _Faces:
    rows: list[np.ndarray] = []
    owner: list[uuid.UUID] = []
    index: list[int] = []
    for image in images:
        vectors = _vectors(image)
        if vectors is None:
            continue
        rows.append(vectors)
        owner.extend([image.id] * len(vectors))
        index.extend(range(len(vectors)))
    stacked = np.concatenate(rows) if rows else np.zeros((0, descriptors.SIZE))
    return _Faces(vectors=stacked, owner=owner, index=index)


def _vectors(image: Described) -> np.ndarray | None:
    """Its faces' descriptors (one row per face), or None when they were not computed."""
    stored = list(image.face_descriptors or [])
    if not stored or len(stored) != len(image.faces or []):
        return None
    try:
        return np.stack([descriptors.decode(str(text)) for text in stored])
    except ValueError:
        return None


def _gaps(faces: _Faces, centroid: np.ndarray | None) -> dict[uuid.UUID, np.ndarray]:
    """Each picture's faces' distances to the centroid, computed for all faces in one step."""
    if centroid is None or len(faces.vectors) == 0:
        return {}
    every = np.linalg.norm(faces.vectors - centroid, axis=1)
    found: dict[uuid.UUID, list[float]] = {}
    for owner, gap in zip(faces.owner, every.tolist(), strict=True):
        found.setdefault(owner, []).append(gap)
    return {owner: np.array(values) for owner, values in found.items()}


def _cluster_numbers(faces: _Faces) -> dict[uuid.UUID, dict[int, int]]:
    numbers: dict[uuid.UUID, dict[int, int]] = {}
    for owner, index, number in zip(faces.owner, faces.index, cluster(faces.vectors), strict=True):
        numbers.setdefault(owner, {})[index] = int(number)
    return numbers


def _reframe(image: DatasetImage, verdict: dict[str, Any] | None) -> None:
    """A group picture's automatic crop follows her face when the verdict changes which it is."""
    faces = list(image.faces or [])
    before = (image.identity or {}).get("face")
    after = (verdict or {}).get("face")
    if (len(faces) < 2 or before == after or image.crop_manual or image.width < 1 or image.height < 1
            or CLIP_KEY in (image.quality or {})):
        return
    target = int((image.crop or {}).get("target") or DEFAULT_TARGET)
    image.crop = suggest_crop(image.width, image.height, her_faces(faces, verdict), target).to_dict()


def _verdicts(studio: StudioParts, dataset_id: uuid.UUID) -> dict[uuid.UUID, dict[str, Any]]:
    dataset = _dataset(studio, dataset_id)
    query = select(DatasetImage.id, DatasetImage.identity).where(
        DatasetImage.workspace_id == dataset.workspace_id, DatasetImage.dataset_id == dataset.id,
        DatasetImage.deleted_at.is_(None)).order_by(DatasetImage.created_at, DatasetImage.source_name)
    with studio.db.session() as session:
        return {image_id: verdict for image_id, verdict in session.execute(query) if verdict}


def _query(dataset: Dataset) -> Any:
    return (select(DatasetImage)
            .where(DatasetImage.workspace_id == dataset.workspace_id,
                   DatasetImage.dataset_id == dataset.id, DatasetImage.deleted_at.is_(None))
            .order_by(DatasetImage.created_at, DatasetImage.source_name))


def _dataset(studio: StudioParts, dataset_id: uuid.UUID) -> Dataset:
    with studio.db.session() as session:
        dataset = session.get(Dataset, dataset_id)
    if dataset is None or dataset.deleted_at is not None:
        raise NotFound("This dataset does not exist (it may have been deleted).")
    return dataset


def _check_flag(flag: str) -> None:
    if flag not in FLAGS:
        raise InvalidInput(f"Unknown identity flag '{flag}'; one of {', '.join(FLAGS)}.")
