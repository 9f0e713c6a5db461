"""The user's own workflows: API-format files exported from ComfyUI, kept in the data folder.

A file added here sits beside the built-in templates. Its parameters are guessed from the node
types (seed, steps, prompts, checkpoint, LoRA…) unless a mapping is given; a graph nothing can
be guessed for still runs exactly as it was exported.
"""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from studio.engine.comfyui.workflow_mapping import guess_parameters
from studio.engine.comfyui.workflows import (
    SIDECAR_SUFFIX,
    LoadedTemplates,
    WorkflowTemplate,
    detect_models,
    load_template,
    load_templates,
    parse_parameters,
    read_graph,
)
from studio.engine.config import Paths
from studio.engine.errors import Conflict, InvalidInput
from studio.engine.fsutil import atomic_write_text

_NAME = re.compile(r"[^a-z0-9]+")


def workflows_dir(paths: Paths) -> Path:
    return paths.data_dir / "workflows"


def is_user_workflow(template: WorkflowTemplate, paths: Paths) -> bool:
    """True for a workflow the user added (its mapping can be edited), not a built-in."""
    return template.path is not None and template.path.parent == workflows_dir(paths)


def all_templates(paths: Paths) -> LoadedTemplates:
    """Built-in templates and the user's workflows; broken user files are listed in ``errors``."""
    return load_templates(workflows_dir(paths))


def add_workflow(paths: Paths, source: Path, *, name: str | None = None,
                 mapping: dict[str, str | list[str]] | None = None,
                 guess: bool = True) -> WorkflowTemplate:
    """Copies ``source`` into the user's workflows with a parameters sidecar; returns it loaded."""
    graph = read_graph(Path(source))  # refuses a UI-format file with the Export (API) hint
    slug = _NAME.sub("-", (name or Path(source).stem).lower()).strip("-")
    if not slug:
        raise InvalidInput("A workflow needs a name made of letters or digits.")
    if slug in load_templates().templates:
        raise Conflict(f"'{slug}' is the name of a built-in template; choose another name.")
    folder = workflows_dir(paths)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{slug}.json"
    sidecar = folder / f"{slug}{SIDECAR_SUFFIX}"
    chosen = mapping if mapping is not None else (guess_parameters(graph) if guess else {})
    models = _models_block(graph, chosen, target.name)
    atomic_write_text(target, json.dumps(graph, indent=2, ensure_ascii=False) + "\n")
    if chosen:
        meta = {"name": slug, "title": name or Path(source).stem, "base": "other", "kind": "custom",
                "parameters": chosen, "models": models}
        atomic_write_text(sidecar, json.dumps(meta, indent=2, ensure_ascii=False) + "\n")
    else:
        sidecar.unlink(missing_ok=True)
    return load_template(target)


def _models_block(graph: dict[str, Any], mapping: dict[str, str | list[str]],
                  where: str) -> dict[str, dict[str, str]]:
    """The sidecar's "models": each loader's node, input and ComfyUI folder, as the built-in
    templates declare theirs, so a result's recipe names the checkpoint and LoRA it used."""
    parameters = parse_parameters(mapping, graph, where)
    return {key: {"node": slot.node, "input": slot.input, "folder": slot.folder}
            for key, slot in detect_models(graph, parameters).items()}
