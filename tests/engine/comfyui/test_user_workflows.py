"""A user's own ComfyUI workflow: added with guessed or given parameters, listed, and run."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from studio.engine.comfyui.generation import find_template
from studio.engine.comfyui.user_workflows import add_workflow, all_templates, workflows_dir
from studio.engine.comfyui.workflow_fill import fill
from studio.engine.comfyui.workflows import BUILTIN_DIR, ModelSlot, load_template, load_templates
from studio.engine.core import Studio
from studio.engine.db.models import Asset
from studio.engine.errors import Conflict, InvalidInput
from tests.engine.comfyui.helpers import TXT2IMG, reload, run_next, submit
from tests.fakes.comfyui_server import FakeComfyUI


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


def _sidecar(studio: Studio, name: str) -> dict[str, object]:
    return dict(json.loads((workflows_dir(studio.paths) / f"{name}.params.json").read_text(encoding="utf-8")))


def test_the_parameters_file_declares_its_models_as_a_built_in_template_does(studio: Studio,
                                                                             tmp_path: Path) -> None:
    add_workflow(studio.paths, _exported(tmp_path))
    builtin = json.loads((BUILTIN_DIR / "txt2img-sd15-lora.params.json").read_text(encoding="utf-8"))
    assert _sidecar(studio, "my-portrait-flow")["models"] == builtin["models"]
    assert load_template(workflows_dir(studio.paths) / "my-portrait-flow.json").models == {
        "checkpoint": ModelSlot("4", "ckpt_name", "checkpoints"), "lora": ModelSlot("10", "lora_name", "loras")}


def test_the_models_follow_the_loader_a_mapping_names(studio: Studio, tmp_path: Path) -> None:
    graph = {**TXT2IMG, "11": {"class_type": "LoraLoader", "inputs": {
        "model": ["10", 0], "clip": ["10", 1], "lora_name": "style.safetensors", "strength_model": 0.5,
        "strength_clip": 0.5}}}
    source = tmp_path / "two-loras.json"
    source.write_text(json.dumps(graph), encoding="utf-8")
    template = add_workflow(studio.paths, source, mapping={"lora_name": "11.lora_name", "seed": "3.seed"})
    assert _sidecar(studio, "two-loras")["models"] == {
        "checkpoint": {"node": "4", "input": "ckpt_name", "folder": "checkpoints"},
        "lora": {"node": "11", "input": "lora_name", "folder": "loras"}}
    assert template.models["lora"] == ModelSlot("11", "lora_name", "loras")


def test_a_parameters_file_written_without_models_still_finds_them(studio: Studio, tmp_path: Path) -> None:
    add_workflow(studio.paths, _exported(tmp_path))
    sidecar = workflows_dir(studio.paths) / "my-portrait-flow.params.json"
    older = {k: v for k, v in _sidecar(studio, "my-portrait-flow").items() if k != "models"}
    sidecar.write_text(json.dumps(older), encoding="utf-8")  # as add-workflow wrote it before
    assert set(find_template("my-portrait-flow", studio.paths).models) == {"checkpoint", "lora"}


def test_a_generation_with_a_user_workflow_records_its_checkpoint_and_lora(studio: Studio,
                                                                          tmp_path: Path) -> None:
    source = tmp_path / "Mine.json"
    source.write_text(json.dumps(TXT2IMG), encoding="utf-8")
    add_workflow(studio.paths, source)
    with FakeComfyUI() as comfy:
        studio.settings.comfyui.url = comfy.base_url
        [job] = submit(studio, template="mine", seed=5, lora_strength=0.6)
        run_next(studio)
    done = reload(studio, job)
    assert done.status == "completed", done.error
    with studio.db.session() as session:
        [asset] = session.query(Asset).filter_by(job_id=job.id).limit(1)
        recipe = asset.meta["recipe"]
    assert (recipe["template"], recipe["checkpoint"], recipe["lora"], recipe["lora_strength"]) == (
        "mine", "sd15.safetensors", "mia_v1.safetensors", 0.6)


def test_an_edited_workflow_or_parameters_file_is_read_again(tmp_path: Path) -> None:
    """Templates are kept between look-ups (a worker finds one per job) only while their files
    are unchanged: a graph or sidecar edited in place, or a sidecar added, is seen at once."""
    folder = tmp_path / "workflows"
    folder.mkdir()
    graph_file = folder / "flow.json"
    graph = load_templates().templates["txt2img-sd15-lora"].graph
    graph_file.write_text(json.dumps(graph), encoding="utf-8")
    assert load_templates(folder).templates["flow"].parameters == {}
    assert load_templates(folder).templates["flow"] is load_templates(folder).templates["flow"]
    seed_node = next(n for n, node in graph.items() if node["class_type"] == "KSampler")
    sidecar = folder / "flow.params.json"
    sidecar.write_text(json.dumps({"name": "flow", "title": "Flow", "base": "sd15", "kind": "txt2img",
                                   "parameters": {"seed": {"targets": [f"{seed_node}.seed"]}}}), encoding="utf-8")
    assert list(load_templates(folder).templates["flow"].parameters) == ["seed"]
    graph[seed_node]["inputs"]["steps"] = 1234  # more digits: the same second may hold both writes
    with graph_file.open("r+", encoding="utf-8") as handle:  # in place: the same file
        handle.write(json.dumps(graph))
    assert load_templates(folder).templates["flow"].graph[seed_node]["inputs"]["steps"] == 1234
