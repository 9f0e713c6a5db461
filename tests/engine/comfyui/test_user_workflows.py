"""A user's own ComfyUI workflow: added with guessed or given parameters, listed, and run."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from studio.engine.comfyui.generation import find_template
from studio.engine.comfyui.user_workflows import add_workflow, all_templates, workflows_dir
from studio.engine.comfyui.workflow_fill import fill
from studio.engine.comfyui.workflows import load_templates
from studio.engine.core import Studio
from studio.engine.errors import Conflict, InvalidInput


def _exported(tmp_path: Path) -> Path:
    """A graph as ComfyUI's Export (API) writes it: the built-in SD 1.5 text-to-image graph."""
    graph = load_templates().templates["txt2img-sd15-lora"].graph
    path = tmp_path / "My Portrait Flow.json"
    path.write_text(json.dumps(graph), encoding="utf-8")
    return path


def test_added_workflow_gets_guessed_parameters_and_is_found_by_name(studio: Studio, tmp_path: Path) -> None:
    template = add_workflow(studio.paths, _exported(tmp_path))
    assert template.name == "my-portrait-flow"
    assert {"seed", "steps", "positive", "negative", "checkpoint", "lora_name"} <= set(template.parameters)
    assert (workflows_dir(studio.paths) / "my-portrait-flow.params.json").is_file()
    assert "my-portrait-flow" in all_templates(studio.paths).templates
    found = find_template("my-portrait-flow", studio.paths)
    filled = fill(found, {"seed": 7, "positive": "mia on a boat"})
    assert filled.seed == 7 and "mia on a boat" in json.dumps(filled.graph)


def test_a_given_mapping_or_none_at_all(studio: Studio, tmp_path: Path) -> None:
    source = _exported(tmp_path)
    seed_node = next(n for n, node in json.loads(source.read_text()).items() if node["class_type"] == "KSampler")
    mapped = add_workflow(studio.paths, source, name="Only seed", mapping={"seed": f"{seed_node}.seed"})
    assert list(mapped.parameters) == ["seed"]
    plain = add_workflow(studio.paths, source, name="As exported", guess=False)
    assert plain.parameters == {} and fill(plain, {}).graph == json.loads(source.read_text())


def test_bad_files_and_names_are_refused(studio: Studio, tmp_path: Path) -> None:
    ui_format = tmp_path / "ui.json"
    ui_format.write_text(json.dumps({"nodes": [], "links": [], "version": 0.4}), encoding="utf-8")
    with pytest.raises(InvalidInput, match="Export \\(API\\)"):
        add_workflow(studio.paths, ui_format)
    with pytest.raises(Conflict, match="built-in"):
        add_workflow(studio.paths, _exported(tmp_path), name="txt2img-sd15-lora")
    assert not workflows_dir(studio.paths).exists() or not any(workflows_dir(studio.paths).iterdir())
