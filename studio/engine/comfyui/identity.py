"""Identity of generated pictures: how much each one looks like the generation's influencer.

A generation job scores every still it stores, once the file is in the asset store, against the
centroid of her reference faces (``identity.scoring``), and keeps the verdict beside the recipe
in ``Asset.meta["identity"]``: ``{"score", "distance", "faces", "revision"}``. Where no score
can be given, ``score`` is null and ``note`` says why in one line (no reference faces yet, the
face model missing, no face in the picture), and ``faces`` is null when the picture was not
looked at. Scoring never fails the job: a picture without a score is still a picture.

Clips are not scored: their frames would need decoding, and the still a clip starts from is.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from studio.engine.db.database import Database
from studio.engine.db.models import Influencer
from studio.engine.db.repositories import Repository
from studio.engine.identity import model
from studio.engine.identity.descriptors import SAME_PERSON_SCORE
from studio.engine.identity.scoring import centroid_of, score_picture

NO_REFERENCES = "no reference faces of her yet"
NO_FACE = "no face found"

__all__ = ["NO_FACE", "NO_REFERENCES", "SAME_PERSON_SCORE", "Reference", "distance_of",
           "identity_of", "picture_identity", "reference_of", "score_of"]


@dataclass(frozen=True, slots=True)
class Reference:
    """Her references' centroid as the job found it (None: none set yet) and its revision."""

    name: str
    centroid: np.ndarray | None
    revision: int


def reference_of(db: Database, workspace_id: uuid.UUID, influencer_id: uuid.UUID | None) -> Reference | None:
    """The influencer's reference, read once per job; None for a picture of no influencer."""
    if influencer_id is None:
        return None
    with db.session() as session:
        influencer = Repository(session, workspace_id).find(Influencer, id=influencer_id)
        if influencer is None:
            return None
        identity = dict(influencer.identity or {})
        return Reference(name=influencer.name, centroid=centroid_of(identity),
                         revision=int(identity.get("revision") or 0))


def picture_identity(path: Path, reference: Reference) -> dict[str, Any]:
    """The verdict stored in ``Asset.meta["identity"]``; never raises."""
    empty: dict[str, Any] = {"score": None, "distance": None, "faces": None, "revision": reference.revision}
    if reference.centroid is None:
        return {**empty, "note": NO_REFERENCES}
    try:
        found = score_picture(path, reference.centroid)
    except model.ModelUnavailable as error:
        return {**empty, "note": str(error)}
    except (ValueError, OSError, RuntimeError) as error:  # an unreadable file, dlib refusing it
        return {**empty, "note": f"the picture could not be scored: {error}"}
    verdict = {**empty, "score": found.score, "distance": found.distance, "faces": found.faces}
    return verdict if found.faces else {**verdict, "note": NO_FACE}


def identity_of(meta: dict[str, Any] | None) -> dict[str, Any]:
    """A stored verdict ({} where the picture was never scored)."""
    found = (meta or {}).get("identity")
    return found if isinstance(found, dict) else {}


def score_of(meta: dict[str, Any] | None) -> float | None:
    value = identity_of(meta).get("score")
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def distance_of(meta: dict[str, Any] | None) -> float | None:
    value = identity_of(meta).get("distance")
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None
