"""Finding rows by the names people type (Decision 5), for the command line and any other caller.

An influencer is looked for in the named workspace; without one, in the current workspace; and
when it is not there, in every workspace of the data folder: a name that is unique there
resolves without ``--workspace``, a name found in several asks which one.
"""
from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy import select

from studio.engine.core import Studio
from studio.engine.db.models import Dataset, Influencer, Job, LoraModel, Workspace
from studio.engine.db.repositories import Repository
from studio.engine.errors import InvalidInput, NotFound

T = TypeVar("T")
MIN_PREFIX = 4


@dataclass(frozen=True, slots=True)
class FoundInfluencer:
    workspace: Workspace
    influencer: Influencer


@dataclass(frozen=True, slots=True)
class FoundDataset:
    workspace: Workspace
    influencer: Influencer
    dataset: Dataset


def normal_name(name: str) -> str:
    """Names are stored with single spaces; what is typed may have more."""
    return " ".join(name.split())


def current_workspace_name(studio: Studio) -> str | None:
    """The workspace that ``Studio.workspace()`` would pick, without creating one."""
    names = [w.name for w in studio.workspaces()]
    chosen = studio.settings.general.current_workspace
    if chosen in names:
        return chosen
    return names[0] if names else None


def find_influencer(studio: Studio, *, name: str, workspace: str | None = None) -> FoundInfluencer:
    """In ``workspace`` when given; else the current workspace; else the one workspace that has
    an influencer of that name."""
    in_workspace = _in_data_folder(studio, workspace=workspace, noun="influencer", name=name,
                                   find=lambda w: _influencer(studio, w, name),
                                   hint="see `influencer list`")
    return FoundInfluencer(workspace=in_workspace[0], influencer=in_workspace[1])


def find_dataset(studio: Studio, *, influencer: str, dataset: str,
                 workspace: str | None = None) -> FoundDataset:
    """The dataset named ``dataset`` of the influencer named ``influencer`` (found as above)."""
    from studio.engine.datasets.service import get_dataset  # heavy: `workspace list` needs none

    found = find_influencer(studio, name=influencer, workspace=workspace)
    chosen = get_dataset(studio, found.workspace.id, normal_name(dataset), found.influencer.id)
    return FoundDataset(workspace=found.workspace, influencer=found.influencer, dataset=chosen)


def find_lora(studio: Studio, *, workspace_id: uuid.UUID, ref: str) -> LoraModel:
    """A saved LoRA by id, file name (with or without ``.safetensors``) or name."""
    query = select(LoraModel).where(LoraModel.workspace_id == workspace_id,
                                    LoraModel.deleted_at.is_(None))
    with studio.db.session() as session:
        rows = session.scalars(query).all()
    wanted = ref.strip()
    for row in rows:
        file_name = row.storage_key.rsplit("/", 1)[-1]
        if wanted in (str(row.id), file_name, row.name) or f"{wanted}.safetensors" == file_name:
            return row
    raise NotFound(f"No saved LoRA '{ref}' (an id or file name from `train checkpoints`).")


def find_job_id(studio: Studio, *, workspace_id: uuid.UUID, text: str) -> uuid.UUID:
    """A full job id, or a prefix of one that matches a single job of the workspace."""
    with studio.db.session() as session:
        ids = session.scalars(select(Job.id).where(Job.workspace_id == workspace_id)).all()
    return id_from_prefix(ids=ids, text=text, what="job", where="in this workspace")


def id_from_prefix(*, ids: Sequence[uuid.UUID], text: str, what: str, where: str) -> uuid.UUID:
    """The one id of ``ids`` that is ``text`` or starts with it (at least a few characters)."""
    text = text.strip().lower()
    exact = [i for i in ids if str(i) == text]
    if exact:
        return exact[0]
    if len(text) < MIN_PREFIX:
        raise InvalidInput(f"'{text}' is too short for a {what} id (at least {MIN_PREFIX} characters).")
    matches = [i for i in ids if str(i).startswith(text)]
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise InvalidInput(f"'{text}' matches {len(matches)} of them; give more of the {what} id.")
    raise NotFound(f"No {what} with the id '{text}' {where}.")


def _influencer(studio: Studio, workspace: Workspace, name: str) -> Influencer | None:
    with studio.db.session() as session:
        return Repository(session, workspace.id).find(Influencer, name=normal_name(name))


def _in_data_folder(studio: Studio, *, workspace: str | None, noun: str, name: str,
                    find: Callable[[Workspace], T | None], hint: str) -> tuple[Workspace, T]:
    """The rule of Decision 5 for any row found by name in a workspace."""
    if workspace:
        named = studio.workspace(workspace)
        found = find(named)
        if found is None:
            raise NotFound(f"No {noun} named '{name}' in workspace '{named.name}'.")
        return named, found
    current = studio.workspace()
    here = find(current)
    if here is not None:
        return current, here
    elsewhere = [(w, row) for w in studio.workspaces() if w.id != current.id
                 if (row := find(w)) is not None]
    if len(elsewhere) == 1:
        return elsewhere[0]
    if elsewhere:
        names = ", ".join(f"'{w.name}'" for w, _ in elsewhere)
        raise InvalidInput(f"The {noun} '{name}' exists in workspaces {names}; choose one with "
                           "--workspace.")
    raise NotFound(f"No {noun} named '{name}' ({hint}).")
