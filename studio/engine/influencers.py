"""Influencers: the characters a workspace runs, with their persona and trigger word."""
from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from studio.engine.core import Studio
from studio.engine.db.models import Asset, Influencer, Job
from studio.engine.db.repositories import Repository, clean_name
from studio.engine.errors import Conflict, InvalidInput
from studio.engine.jobs.payloads import AssetKey
from studio.engine.media.thumbnails import ThumbnailPayload
from studio.engine.storage.local import LocalStore
from studio.engine.trash import name_in_trash

TRIGGER = re.compile(r"^[\w-]{0,80}$", re.UNICODE)
AVATAR_TYPES = {".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff"}


@dataclass(slots=True)
class Persona:
    """What the editor edits; ``topics`` is a list of short phrases."""

    name: str
    trigger_word: str = ""
    tone: str = ""
    style: str = ""
    voice: str = ""
    topics: list[str] = field(default_factory=list)
    language: str = "en"
    notes: str = ""

    def validated(self) -> Persona:
        trigger = self.trigger_word.strip()
        if not TRIGGER.match(trigger):
            raise InvalidInput("A trigger word is one token: letters, digits, '_' or '-', no spaces.")
        topics = [t.strip() for t in self.topics if t.strip()]
        return Persona(name=clean_name(self.name, what="influencer"), trigger_word=trigger,
                       tone=self.tone.strip(), style=self.style.strip(), voice=self.voice.strip(),
                       topics=topics, language=self.language.strip() or "en", notes=self.notes.strip())


def list_influencers(studio: Studio, workspace_id: uuid.UUID) -> Sequence[Influencer]:
    with studio.db.session() as session:
        return Repository(session, workspace_id).list(Influencer, order_by=Influencer.name)


def get_influencer(studio: Studio, workspace_id: uuid.UUID, ref: uuid.UUID | str) -> Influencer:
    """By id or by name."""
    with studio.db.session() as session:
        repo = Repository(session, workspace_id)
        if isinstance(ref, str):
            found = repo.find(Influencer, name=" ".join(ref.split()))
            if found is not None:
                return found
        return repo.get(Influencer, ref)


def create_influencer(studio: Studio, workspace_id: uuid.UUID, persona: Persona) -> Influencer:
    persona = persona.validated()
    with studio.db.session() as session:
        repo = Repository(session, workspace_id)
        _check_unique(repo, persona.name, None)
        return repo.add(Influencer(**_fields(persona)))


def update_influencer(studio: Studio, workspace_id: uuid.UUID, influencer_id: uuid.UUID,
                      persona: Persona, *, expected_version: int | None = None) -> Influencer:
    persona = persona.validated()
    with studio.db.session() as session:
        repo = Repository(session, workspace_id)
        influencer = repo.get(Influencer, influencer_id)
        _check_unique(repo, persona.name, influencer.id)
        return repo.update(influencer, expected_version=expected_version, **_fields(persona))


def trash_influencer(studio: Studio, workspace_id: uuid.UUID, influencer_id: uuid.UUID) -> Influencer:
    with studio.db.session() as session:
        repo = Repository(session, workspace_id)
        return repo.trash(repo.get(Influencer, influencer_id))


def set_avatar(studio: Studio, workspace_id: uuid.UUID, influencer_id: uuid.UUID,
               image: Path) -> Job:
    """Copies the portrait into the asset store and queues the job that makes its thumbnails."""
    if image.suffix.lower() not in AVATAR_TYPES:
        raise InvalidInput(f"'{image.name}' is not a supported picture ({', '.join(sorted(AVATAR_TYPES))}).")
    if not image.is_file():
        raise InvalidInput(f"'{image}' does not exist or is not a file.")
    store = LocalStore(studio.paths.assets_dir)
    with studio.db.session() as session:
        repo = Repository(session, workspace_id)
        influencer = repo.get(Influencer, influencer_id)
        key = f"avatars/{workspace_id}/{influencer.id}/{uuid.uuid4().hex}{image.suffix.lower()}"
        stored = store.put_file(image, key)
        asset = repo.add(Asset(kind="avatar", storage_key=stored.key, influencer_id=influencer.id,
                               sha256=stored.sha256, size_bytes=stored.size_bytes,
                               meta={"original_name": image.name}))
        influencer.avatar_asset_id = asset.id
    return studio.jobs.submit(workspace_id, "make-thumbnails",
                              ThumbnailPayload(keys=(AssetKey(stored.key),)),
                              title=f"Portrait thumbnails: {influencer.name}")


def avatar_path(studio: Studio, workspace_id: uuid.UUID, influencer: Influencer) -> tuple[Path, str] | None:
    """The stored portrait and its content hash, when the influencer has one."""
    if influencer.avatar_asset_id is None:
        return None
    with studio.db.session() as session:
        asset = Repository(session, workspace_id).find(Asset, id=influencer.avatar_asset_id)
        if asset is None:
            return None
        return LocalStore(studio.paths.assets_dir).path(asset.storage_key), asset.sha256


def _fields(persona: Persona) -> dict[str, object]:
    return {"name": persona.name, "trigger_word": persona.trigger_word, "tone": persona.tone,
            "style": persona.style, "voice": persona.voice, "topics": persona.topics,
            "language": persona.language, "notes": persona.notes}


def _check_unique(repo: Repository, name: str, own_id: uuid.UUID | None) -> None:
    other = repo.find(Influencer, name=name)
    if other is not None and other.id != own_id:
        raise Conflict(f"An influencer named '{name}' already exists in this workspace.")
    name_in_trash(repo.session, repo.workspace_id, Influencer, name=name)
