"""Identity of generated pictures: how much each one looks like the generation's influencer.

A generation job scores every still it stores, once the file is in the asset store, against the
centroid of her reference faces (``identity.scoring``), and keeps the verdict beside the recipe
in ``Asset.meta["identity"]``: ``{"score", "distance", "faces", "revision"}``. Where no score
can be given, ``score`` is null and ``note`` says why in one line (no reference faces yet, the
face model missing, no face in the picture), and ``faces`` is null when the picture was not
looked at. Scoring never fails the job: a picture without a score is still a picture.

Clips are not scored: their frames would need decoding, and the still a clip starts from is.

Each verdict names the references' ``revision`` it was measured against; when her references
change, a "score-pictures" job (``submit_rescore``) scores her pictures of an older revision, or
of none, again.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select

from studio.engine.core import Studio
from studio.engine.db.database import Database
from studio.engine.db.models import Asset, Job
from studio.engine.db.repositories import Repository
from studio.engine.errors import NotFound
from studio.engine.identity import model
from studio.engine.identity.descriptors import SAME_PERSON_SCORE
from studio.engine.identity.scoring import Reference, reference_of, score_picture
from studio.engine.jobs.context import JobContext
from studio.engine.jobs.errors import JobFailed
from studio.engine.jobs.registry import job_type
from studio.engine.storage.local import LocalStore

NO_REFERENCES = "no reference faces of her yet"
NO_FACE = "no face found"
RESCORE_JOB = "score-pictures"

__all__ = ["NO_FACE", "NO_REFERENCES", "RESCORE_JOB", "SAME_PERSON_SCORE", "Reference", "RescorePayload",
           "RescoreResult", "distance_of", "identity_of", "picture_identity", "reference_of", "run_rescore",
           "score_of", "stale_pictures", "submit_rescore"]


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


# Scoring her pictures again ------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class RescorePayload:
    influencer_id: uuid.UUID


@dataclass(frozen=True, slots=True)
class RescoreResult:
    scored: int


def stale_pictures(db: Database, workspace_id: uuid.UUID, influencer_id: uuid.UUID,
                   revision: int) -> list[tuple[uuid.UUID, str]]:
    """Her generated stills (not in the trash) never scored against references of ``revision``:
    (asset id, storage key), oldest first."""
    query = select(Asset).where(Asset.workspace_id == workspace_id, Asset.influencer_id == influencer_id,
                                Asset.kind == "image", Asset.job_id.is_not(None), Asset.deleted_at.is_(None))
    with db.session() as session:
        assets = session.scalars(query.order_by(Asset.created_at)).all()
        return [(a.id, a.storage_key) for a in assets if identity_of(a.meta).get("revision") != revision]


def submit_rescore(studio: Studio, workspace_id: uuid.UUID, influencer_id: uuid.UUID) -> Job:
    """Queues scoring her pictures again against her references as they are now."""
    her = reference_of(studio.db, workspace_id, influencer_id)
    if her is None:
        raise NotFound(f"There is no influencer {influencer_id}.")
    return studio.jobs.submit(workspace_id, RESCORE_JOB, RescorePayload(influencer_id=influencer_id),
                              title=f"{her.name}: score her pictures against her references")


@job_type(RESCORE_JOB, queue="general", payload=RescorePayload, result=RescoreResult)
def run_rescore(ctx: JobContext, payload: RescorePayload) -> RescoreResult:
    her = reference_of(ctx.db, ctx.workspace_id, payload.influencer_id)
    if her is None:
        raise JobFailed("The influencer was deleted.")
    if her.centroid is None:
        raise JobFailed(f"{her.name} has no reference faces yet: choose them, then score her pictures again.")
    pictures = stale_pictures(ctx.db, ctx.workspace_id, payload.influencer_id, her.revision)
    store = LocalStore(ctx.paths.assets_dir)
    for done, (asset_id, key) in enumerate(pictures):
        ctx.check_canceled()
        ctx.progress(done / len(pictures), stage="Scoring her pictures", message=f"{done} of {len(pictures)}")
        verdict = picture_identity(store.path(key), her)
        with ctx.db.session() as session:
            repo = Repository(session, ctx.workspace_id)
            asset = repo.find(Asset, id=asset_id)
            if asset is not None:  # a new dict: SQLAlchemy only sees an assigned JSON value change
                repo.update(asset, meta={**(asset.meta or {}), "identity": verdict})
    return RescoreResult(scored=len(pictures))
