"""The generated images: list and filter them, rate them, re-make them, use them as input.

Rating, favourite and her identity score (``comfyui/identity.py``) live in ``Asset.meta`` beside
the recipe, so the gallery needs no table of its own. Filters and sorts on meta are applied here
in Python: the same code on SQLite and PostgreSQL, and a workspace's images number in the
thousands, not millions.
"""
from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select

from studio.engine.comfyui.generation import GenerationRequest, preview_file, submit_generation
from studio.engine.comfyui.identity import identity_of, score_of
from studio.engine.comfyui.recipe_template import fitting_values, template_for_recipe
from studio.engine.comfyui.user_workflows import all_templates
from studio.engine.core import Studio
from studio.engine.db.models import Asset, Job
from studio.engine.db.repositories import Repository
from studio.engine.errors import InvalidInput, NotFound

KINDS = ("image",)
NEWEST, BY_IDENTITY = "newest", "identity"
SORTS = (NEWEST, BY_IDENTITY)


@dataclass(frozen=True, slots=True)
class GalleryFilter:
    """What a gallery listing shows; every field narrows, the defaults show everything."""

    influencer_id: uuid.UUID | None = None
    lora: str | None = None
    job_id: uuid.UUID | None = None
    min_rating: int = 0
    favourites_only: bool = False
    since: datetime | None = None
    min_identity: float | None = None  # 0–1: only pictures scored at least this (unscored ones: not)
    sort: str = NEWEST  # or BY_IDENTITY: most like her first, unscored last, newest first among equals


@dataclass(frozen=True, slots=True)
class GalleryRow:
    """A detached, light copy of a generated image's Asset: what a listing shows of it."""

    id: uuid.UUID
    job_id: uuid.UUID | None
    influencer_id: uuid.UUID | None
    storage_key: str
    sha256: str
    width: int
    height: int
    created_at: datetime
    rating: int
    favourite: bool
    seed: int | None
    lora: str
    prompt: str
    template: str
    identity: float | None = None  # her identity score, 0–1 (0.5: the same-person threshold)
    identity_note: str = ""  # why there is no score: no references, no face…

    @property
    def name(self) -> str:
        return Path(self.storage_key).name


def gallery_rows(studio: Studio, *, workspace_id: uuid.UUID, spec: GalleryFilter) -> list[GalleryRow]:
    """Blocking: the generated images ``spec`` lets through, newest first, as rows."""
    if spec.sort not in SORTS:
        raise InvalidInput(f"The gallery sorts by {' or '.join(SORTS)}, not '{spec.sort}'.")
    assets = list_generated(studio, workspace_id, influencer_id=spec.influencer_id, lora=spec.lora,
                            job_id=spec.job_id, min_rating=spec.min_rating,
                            favourites_only=spec.favourites_only, since=spec.since,
                            min_identity=spec.min_identity)
    rows = [gallery_row(a) for a in assets]
    if spec.sort == BY_IDENTITY:  # stable: newest first among equal scores
        rows.sort(key=lambda r: (r.identity is None, -(r.identity or 0.0)))
    return rows


def gallery_row(asset: Asset) -> GalleryRow:
    meta = asset.meta or {}
    made = recipe(asset)
    values = _values(made)
    seed = made.get("seed", values.get("seed"))
    template = made.get("template") or made.get("workflow") or ""
    if isinstance(template, dict):
        template = template.get("name", "")
    sha = asset.sha256 or hashlib.sha256(asset.storage_key.encode()).hexdigest()
    return GalleryRow(id=asset.id, job_id=asset.job_id, influencer_id=asset.influencer_id,
                      storage_key=asset.storage_key, sha256=sha, width=int(meta.get("width") or 0),
                      height=int(meta.get("height") or 0), created_at=asset.created_at,
                      rating=_rating(asset), favourite=_favourite(asset),
                      seed=seed if isinstance(seed, int) else None, lora=lora_of(made),
                      prompt=str(values.get("positive") or made.get("positive") or ""),
                      template=str(template), identity=score_of(meta),
                      identity_note=str(identity_of(meta).get("note") or ""))


def lora_of(made: dict[str, Any]) -> str:
    """The LoRA a recipe used: its own field, else the template's ``lora_name`` value."""
    lora = made.get("lora") or _values(made).get("lora_name") or ""
    if isinstance(lora, dict):
        lora = lora.get("name", "")
    return str(lora)


def _values(made: dict[str, Any]) -> dict[str, Any]:
    """The template values of a recipe (older recipes named them differently)."""
    for key in ("values", "parameters", "params"):
        found = made.get(key)
        if isinstance(found, dict):
            return found
    return {}


def list_generated(studio: Studio, workspace_id: uuid.UUID, *, influencer_id: uuid.UUID | None = None,
                   lora: str | None = None, job_id: uuid.UUID | None = None, min_rating: int = 0,
                   favourites_only: bool = False, since: datetime | None = None,
                   min_identity: float | None = None) -> list[Asset]:
    """Generated images (not in the trash), newest first."""
    if min_identity is not None and not 0 <= min_identity <= 1:
        raise InvalidInput(f"A minimum identity score is from 0 to 1, not {min_identity:g}.")
    query = select(Asset).where(Asset.workspace_id == workspace_id, Asset.kind.in_(KINDS),
                                Asset.deleted_at.is_(None), Asset.job_id.is_not(None))
    if influencer_id is not None:
        query = query.where(Asset.influencer_id == influencer_id)
    if job_id is not None:
        query = query.where(Asset.job_id == job_id)
    if since is not None:
        query = query.where(Asset.created_at >= since)
    with studio.db.session() as session:
        assets = session.scalars(query.order_by(Asset.created_at.desc(), Asset.storage_key)).all()
    return [a for a in assets
            if (lora is None or lora_of(recipe(a)) == lora)
            and _rating(a) >= min_rating and (not favourites_only or _favourite(a))
            and (min_identity is None or _scored_at_least(a, min_identity))]


def get_image(studio: Studio, workspace_id: uuid.UUID, asset_id: uuid.UUID | str) -> Asset:
    with studio.db.session() as session:
        asset = Repository(session, workspace_id).get(Asset, asset_id)
    if asset.kind not in KINDS:
        raise NotFound(f"The asset {asset_id} is not a generated image.")
    return asset


def set_rating(studio: Studio, workspace_id: uuid.UUID, asset_id: uuid.UUID | str,
               rating: int) -> Asset:
    if type(rating) is not int or not 0 <= rating <= 5:  # refuses True too, which isinstance calls an int
        raise InvalidInput(f"A rating is a whole number from 0 to 5, not {rating!r}.")
    return _set_meta(studio, workspace_id, asset_id, rating=rating)


def set_favourite(studio: Studio, workspace_id: uuid.UUID, asset_id: uuid.UUID | str,
                  favourite: bool) -> Asset:
    return _set_meta(studio, workspace_id, asset_id, favourite=bool(favourite))


def recipe(asset: Asset) -> dict[str, Any]:
    """How the image was made: template, graph, every value, seed, models, timings."""
    found = (asset.meta or {}).get("recipe")
    return found if isinstance(found, dict) else {}


def rerun(studio: Studio, workspace_id: uuid.UUID, asset_id: uuid.UUID | str, *,
          new_seed: bool = True) -> Job:
    """The same template and values again, with a new random seed or the same one."""
    asset = get_image(studio, workspace_id, asset_id)
    made = recipe(asset)
    if not made.get("template"):
        raise InvalidInput("This image has no recipe to re-make it from.")
    values = dict(made.get("values") or {})
    if "seed" in values:  # a template without a seed parameter has none to change
        values["seed"] = -1 if new_seed else made.get("seed")
    # Its own workflow, else one of its family (the same model), with the values that fit it.
    found = template_for_recipe(made, all_templates(studio.paths).templates)
    template = found.name if found is not None else str(made["template"])
    if found is not None and found.name != made["template"]:
        values = fitting_values(found, values)[0]
    request = GenerationRequest(influencer_id=asset.influencer_id, template=template,
                                values=values, count=1)
    return submit_generation(studio, workspace_id, request)[0]


def asset_path(studio: Studio, asset: Asset) -> Path:
    return studio.asset_path(asset.storage_key)


def use_as_input(asset: Asset, studio: Studio | None = None) -> Path:
    """The stored file, for an image-to-image template's input image."""
    path = asset_path(studio, asset) if studio is not None else Path(str((asset.meta or {}).get("path", "")))
    if not path.is_file():
        raise NotFound(f"The file of image {asset.id} is missing from the asset store.")
    return path


def trash_image(studio: Studio, workspace_id: uuid.UUID, asset_id: uuid.UUID | str) -> None:
    """To the trash: restorable until purged (Decision 1)."""
    with studio.db.session() as session:
        repo = Repository(session, workspace_id)
        repo.trash(repo.get(Asset, asset_id))


def preview_path(studio: Studio, job_id: uuid.UUID | str) -> Path:
    """Where a running job keeps its latest preview frame (absent before the first one)."""
    return preview_file(studio.paths.cache_dir, job_id)


def _set_meta(studio: Studio, workspace_id: uuid.UUID, asset_id: uuid.UUID | str,
              **changes: Any) -> Asset:
    with studio.db.session() as session:
        repo = Repository(session, workspace_id)
        asset = repo.get(Asset, asset_id)
        if asset.kind not in KINDS:
            raise NotFound(f"The asset {asset_id} is not a generated image.")
        # A new dict, not an edit in place: SQLAlchemy only sees an assigned JSON value change.
        return repo.update(asset, meta={**(asset.meta or {}), **changes})


def _rating(asset: Asset) -> int:
    value = (asset.meta or {}).get("rating")
    return value if isinstance(value, int) else 0


def _scored_at_least(asset: Asset, minimum: float) -> bool:
    score = score_of(asset.meta)
    return score is not None and score >= minimum


def _favourite(asset: Asset) -> bool:
    return bool((asset.meta or {}).get("favourite"))
