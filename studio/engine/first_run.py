"""What the getting-started guide sets up, as one call a script could make too."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path

from studio.engine.core import Studio
from studio.engine.datasets.sample import import_sample
from studio.engine.db.models import Workspace
from studio.engine.db.repositories import Workspaces
from studio.engine.errors import InvalidInput
from studio.engine.influencers import Persona, create_influencer


@dataclass(frozen=True, slots=True)
class FirstRunChoices:
    workspace: str
    influencer: str = ""  # empty: none yet
    trigger_word: str = ""
    comfyui_url: str = ""  # empty: leave the setting as it is
    comfyui_folder: str = ""
    sdscripts_folder: str = ""
    data_dir: str = ""  # for the next start; empty: unchanged
    sample_dataset: bool = False


@dataclass(frozen=True, slots=True)
class FirstRunResult:
    workspace_id: uuid.UUID
    workspace_name: str
    influencer_id: uuid.UUID | None
    sample_job_id: uuid.UUID | None


def is_first_run(studio: Studio) -> bool:
    """True until the guide was completed or skipped, and only while nothing was made yet."""
    if studio.settings.general.first_run_done:
        return False
    with studio.db.session() as session:
        workspace_ids = [w.id for w in Workspaces(session).list()]
    return not any(_has_influencers(studio, w) for w in workspace_ids)


def _has_influencers(studio: Studio, workspace_id: uuid.UUID) -> bool:
    from studio.engine.influencers import list_influencers
    return bool(list_influencers(studio, workspace_id))


def apply_first_run(studio: Studio, choices: FirstRunChoices) -> FirstRunResult:
    """Names the workspace (the untouched default one is renamed), makes the first influencer,
    saves where ComfyUI and sd-scripts are, and queues the sample dataset when asked."""
    for folder, what in ((choices.comfyui_folder, "ComfyUI"), (choices.sdscripts_folder, "sd-scripts")):
        if folder and not Path(folder).expanduser().is_dir():
            raise InvalidInput(f"The {what} folder {folder} does not exist.")
    if choices.sample_dataset and not choices.influencer:
        raise InvalidInput("The sample dataset belongs to an influencer: name one first.")
    workspace = _name_workspace(studio, choices.workspace)
    influencer_id = None
    if choices.influencer:
        influencer_id = create_influencer(studio, workspace.id, Persona(
            name=choices.influencer, trigger_word=choices.trigger_word)).id
    settings = studio.settings
    if choices.comfyui_url:
        settings.set("comfyui.url", choices.comfyui_url)
    if choices.comfyui_folder:
        settings.comfyui.folder = str(Path(choices.comfyui_folder).expanduser())
    if choices.sdscripts_folder:
        settings.sdscripts.folder = str(Path(choices.sdscripts_folder).expanduser())
    if choices.data_dir:
        settings.general.data_dir = str(Path(choices.data_dir).expanduser())
    settings.general.current_workspace = workspace.name
    settings.general.first_run_done = True
    studio.save_settings()
    job_id = None
    if choices.sample_dataset and influencer_id is not None:
        _, job = import_sample(studio, workspace.id, influencer_id)
        job_id = job.id
    return FirstRunResult(workspace.id, workspace.name, influencer_id, job_id)


def skip_first_run(studio: Studio) -> None:
    studio.settings.general.first_run_done = True
    studio.save_settings()


def _name_workspace(studio: Studio, name: str) -> Workspace:
    """The workspace named ``name``: the current one renamed while it is still empty."""
    current = studio.workspace()
    empty = not _has_influencers(studio, current.id)
    with studio.db.session() as session:
        repo = Workspaces(session)
        existing = {w.name: w for w in repo.list()}
        if name.strip() in existing:
            return existing[name.strip()]
        if empty:
            return repo.rename(repo.get(current.id), name)
        return repo.create(name)
