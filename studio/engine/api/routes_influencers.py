"""/influencers: the ``influencer list|create|show|edit|delete`` verbs over HTTP, through the same
engine calls (studio.engine.influencers). ``{influencer}`` is an id or a name."""
from __future__ import annotations

import uuid
from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from studio.engine import influencers
from studio.engine.api.deps import Reader, StudioDep, Writer
from studio.engine.api.schemas import NOT_FOUND
from studio.engine.db.models import Influencer

router = APIRouter(prefix="/influencers", tags=["influencers"])


class InfluencerOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    trigger_word: str
    tone: str
    style: str
    voice: str
    topics: list[str]
    language: str
    notes: str
    avatar_asset_id: uuid.UUID | None
    created_at: datetime
    updated_at: datetime
    version: int


class PersonaIn(BaseModel):
    """A new influencer; ``name`` is required, the rest as ``influencer create``'s options."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    trigger_word: str = ""
    tone: str = ""
    style: str = ""
    voice: str = ""
    topics: list[str] = Field(default_factory=list)
    language: str = "en"
    notes: str = ""


class PersonaPatch(BaseModel):
    """Fields to change; those left out stay. ``version`` (optional) refuses a stale edit (409)."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=200)
    trigger_word: str | None = None
    tone: str | None = None
    style: str | None = None
    voice: str | None = None
    topics: list[str] | None = None
    language: str | None = None
    notes: str | None = None
    version: int | None = None


@router.get("", response_model=list[InfluencerOut])
def list_influencers(studio: StudioDep, who: Reader) -> list[Influencer]:
    return list(influencers.list_influencers(studio, who.workspace_id))


@router.post("", status_code=201, response_model=InfluencerOut, responses=NOT_FOUND)
def create_influencer(body: PersonaIn, studio: StudioDep, who: Writer) -> Influencer:
    persona = influencers.Persona(**body.model_dump())
    return influencers.create_influencer(studio, who.workspace_id, persona)


@router.get("/{influencer}", response_model=InfluencerOut, responses=NOT_FOUND)
def show_influencer(influencer: str, studio: StudioDep, who: Reader) -> Influencer:
    return influencers.get_influencer(studio, who.workspace_id, influencer)


@router.patch("/{influencer}", response_model=InfluencerOut, responses=NOT_FOUND)
def update_influencer(influencer: str, body: PersonaPatch, studio: StudioDep, who: Writer) -> Influencer:
    found = influencers.get_influencer(studio, who.workspace_id, influencer)
    persona = influencers.Persona(
        name=found.name, trigger_word=found.trigger_word, tone=found.tone, style=found.style,
        voice=found.voice, topics=list(found.topics), language=found.language, notes=found.notes)
    for name, value in body.model_dump(exclude_none=True, exclude={"version"}).items():
        setattr(persona, name, value)
    return influencers.update_influencer(studio, who.workspace_id, found.id, persona,
                                         expected_version=body.version)


@router.delete("/{influencer}", response_model=InfluencerOut, responses=NOT_FOUND)
def delete_influencer(influencer: str, studio: StudioDep, who: Writer) -> Influencer:
    """Moves the influencer to the trash (``trash restore`` brings it back)."""
    found = influencers.get_influencer(studio, who.workspace_id, influencer)
    return influencers.trash_influencer(studio, who.workspace_id, found.id)
