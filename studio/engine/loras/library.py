"""What Generate offers from the LoRA library, and which LoRA a "Use in Generate" asks for.

ComfyUI shows a LoRA by its file name, so the library's LoRAs are named by theirs too (the last
part of the storage key). The chosen influencer's active LoRA comes first, then the influencer's
other LoRAs (finals before checkpoints), then everyone else's; a LoRA of another family is left
out, even when ComfyUI lists it, and so is a file in ComfyUI's own folder whose header names another
family (when the studio knows that folder).
"""
from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from sqlalchemy import select

from studio.engine.db.models import LoraModel
from studio.engine.db.repositories import Repository
from studio.engine.errors import InvalidInput
from studio.engine.loras.family import FAMILY_TITLES, a_title, canonical, offered_with
from studio.engine.loras.folder import folder_families
from studio.engine.parts import StudioParts


@dataclass(frozen=True, slots=True)
class LoraOffer:
    names: list[str]  # the library's LoRAs of the family, in the order Generate shows them
    active: str | None  # the influencer's active LoRA, when it is of the family
    other_families: frozenset[str]  # LoRAs of another family (library or ComfyUI's folder): never offered


@dataclass(frozen=True, slots=True)
class LoraUse:
    """What "Use in Generate" asks the Generate page for."""

    lora_name: str
    title: str
    family: str | None
    influencer_id: uuid.UUID | None


def file_name(row: LoraModel) -> str:
    return PurePosixPath(row.storage_key).name


def family_of_row(row: LoraModel) -> str | None:
    family = (row.meta or {}).get("family")
    return canonical(str(family)) if family else None


def offer(studio: StudioParts, workspace_id: uuid.UUID, family: str | None,
          influencer_id: uuid.UUID | None = None, *, comfy_folder: Path | None = None) -> LoraOffer:
    """The library's LoRAs for a template of ``family`` ("other" or None: all of them);
    ``comfy_folder``, ComfyUI's loras folder, when the studio knows it."""
    with studio.db.session() as session:
        rows = session.scalars(select(LoraModel).where(LoraModel.workspace_id == workspace_id,
                                                       LoraModel.deleted_at.is_(None))).all()
    fitting = [r for r in rows if offered_with(family_of_row(r), family)]
    ordered = sorted(fitting, key=lambda r: _rank(r, influencer_id))
    names = list(dict.fromkeys(file_name(r) for r in ordered))
    active = next((file_name(r) for r in ordered if _is_active(r, influencer_id)), None)
    fitting_ids = {r.id for r in fitting}
    foreign = {name for name, found in folder_families(comfy_folder).items() if not offered_with(found, family)}
    others = frozenset(foreign | {file_name(r) for r in rows if r.id not in fitting_ids}) - set(names)
    return LoraOffer(names=names, active=active, other_families=others)


def her_lora(studio: StudioParts, workspace_id: uuid.UUID, influencer_id: uuid.UUID, family: str | None) -> str | None:
    """The influencer's LoRA for a workflow of ``family`` in a run nobody picks one in (a daily
    post): her active one when it fits; when it is of another family (she moved from SDXL to
    FLUX.1), her best of this one, finals first. None when she chose no active LoRA."""
    with studio.db.session() as session:
        rows = session.scalars(select(LoraModel).where(LoraModel.workspace_id == workspace_id,
                                                       LoraModel.influencer_id == influencer_id,
                                                       LoraModel.deleted_at.is_(None))).all()
    if not any(_is_active(r, influencer_id) for r in rows):
        return None
    fitting = sorted((r for r in rows if offered_with(family_of_row(r), family)), key=lambda r: _rank(r, influencer_id))
    return file_name(fitting[0]) if fitting else None


def refuse_other_family(studio: StudioParts, workspace_id: uuid.UUID, names: Iterable[str], family: str | None,
                        workflow: str, *, comfy_folder: Path | None = None) -> None:
    """Refuses, in one line, a LoRA given by name (CLI, API, a pipeline) whose family is not the
    workflow's: a FLUX.1 LoRA in an SDXL graph only makes ComfyUI fail late or draw noise."""
    wanted = [name for name in names if name]
    if family in (None, "other") or not wanted:
        return
    with studio.db.session() as session:
        rows = session.scalars(select(LoraModel).where(LoraModel.workspace_id == workspace_id,
                                                       LoraModel.deleted_at.is_(None))).all()
    known = {file_name(r): family_of_row(r) for r in rows}
    folder = {} if all(n in known for n in wanted) else folder_families(comfy_folder)
    for name in wanted:
        found = known[name] if name in known else folder.get(name)
        if found is not None and not offered_with(found, family):
            raise InvalidInput(f"The LoRA '{name}' is {a_title(found)} LoRA and the workflow '{workflow}' is for "
                               f"{FAMILY_TITLES.get(family, family)}: choose {a_title(found)} workflow or "
                               f"{a_title(family)} LoRA.")


def use_of(studio: StudioParts, workspace_id: uuid.UUID, lora_id: uuid.UUID) -> LoraUse:
    """The LoRA ``lora_id`` as Generate should be set up for it (raises NotFound when gone)."""
    with studio.db.session() as session:
        row = Repository(session, workspace_id).get(LoraModel, lora_id)
        return LoraUse(lora_name=file_name(row), title=row.name, family=family_of_row(row),
                       influencer_id=row.influencer_id)


def _is_active(row: LoraModel, influencer_id: uuid.UUID | None) -> bool:
    return influencer_id is not None and row.influencer_id == influencer_id and bool((row.meta or {}).get("active"))


def _rank(row: LoraModel, influencer_id: uuid.UUID | None) -> tuple[int, int, int, str]:
    meta = row.meta or {}
    mine = influencer_id is not None and row.influencer_id == influencer_id
    return (0 if _is_active(row, influencer_id) else 1, 0 if mine else 1,
            0 if meta.get("final") else 1, file_name(row).casefold())
