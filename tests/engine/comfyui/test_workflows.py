"""Workflow templates: loading, filling by name, user workflows, guessed mappings, overrides."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from studio.engine.comfyui.validation import validate
from studio.engine.comfyui.workflow_fill import fill, set_input
from studio.engine.comfyui.workflow_mapping import guess_parameters
from studio.engine.comfyui.workflows import (
    BUILTIN_DIR,
    RANDOM_SEED_LIMIT,
    load_templates,
    load_user_workflow,
    parameter_choices,
)
from studio.engine.errors import InvalidInput
from tests.engine.comfyui.captured import object_info, txt2img

SD_BUILTINS = {"txt2img-sd15-lora": ("sd15", "txt2img"), "txt2img-sdxl-lora": ("sdxl", "txt2img"),
               "img2img-sd15-lora": ("sd15", "img2img"),
               "controlnet-pose-sd15-lora": ("sd15", "controlnet-pose")}
# Their runs through the fake ComfyUI are in test_templates_families.py.
FAMILY_BUILTINS = {"txt2img-flux1-lora": ("flux1", "txt2img"), "edit-flux1-kontext": ("flux1", "edit"),
                   "txt2img-qwen-image-lora": ("qwen_image", "txt2img"),
                   "edit-qwen-image": ("qwen_image", "edit")}
BUILTINS = {**SD_BUILTINS, **FAMILY_BUILTINS}
COMMON = {"positive", "negative", "seed", "steps", "cfg", "sampler", "scheduler", "checkpoint",
          "lora_name", "lora_strength", "lora_strength_model", "lora_strength_clip",
          "filename_prefix"}
SIZE = {"width", "height", "batch_size"}
EXPECTED_PARAMETERS = {
    "txt2img-sd15-lora": COMMON | SIZE, "txt2img-sdxl-lora": COMMON | SIZE,
    "img2img-sd15-lora": COMMON | {"input_image", "denoise"},
    "controlnet-pose-sd15-lora": COMMON | SIZE | {"pose_image", "controlnet",
                                                  "controlnet_strength"}}
# The FLUX.1 and Qwen-Image graphs load each model file apart and put the LoRA on the model only.
MODEL_ONLY = {"positive", "seed", "steps", "cfg", "sampler", "scheduler", "lora_name", "lora_strength",
              "filename_prefix", "model", "weight_dtype", "vae"}
FLUX = MODEL_ONLY | {"guidance", "clip_l", "t5xxl"}
QWEN = MODEL_ONLY | {"negative", "shift", "text_encoder"}
EXPECTED_PARAMETERS |= {
    "txt2img-flux1-lora": FLUX | SIZE, "edit-flux1-kontext": FLUX | {"input_image"},
    "txt2img-qwen-image-lora": QWEN | SIZE, "edit-qwen-image": QWEN | {"input_image", "megapixels"}}
RUN = {"positive": "photo of mia_v1 woman in a cafe", "lora_name": "mia_v1.safetensors",
       "input_image": "start.png", "pose_image": "pose.png"}


@pytest.fixture(scope="module")
def templates() -> dict[str, Any]:
    loaded = load_templates()
    assert loaded.errors == []
    return loaded.templates


def inputs(graph: dict[str, Any], node: str) -> dict[str, Any]:
    return graph[node]["inputs"]


def test_every_builtin_loads_with_its_base_kind_and_parameters(templates: dict[str, Any]) -> None:
    assert {n: (t.base, t.kind) for n, t in templates.items()} == BUILTINS
    for name, template in templates.items():
        assert set(template.parameters) == EXPECTED_PARAMETERS[name], name
        classes = tuple(sorted({n["class_type"] for n in template.graph.values()}))
        assert template.required_nodes == classes
        assert template.models["lora"].folder == "loras"
        if name in FAMILY_BUILTINS:
            assert template.models["unet"].folder == "diffusion_models"
        else:
            assert template.models["checkpoint"].folder == "checkpoints"
    pose = templates["controlnet-pose-sd15-lora"]
    assert pose.models["controlnet"].folder == "controlnet"
    assert {"ControlNetLoader", "ControlNetApplyAdvanced", "LoadImage"} <= set(pose.required_nodes)
    assert "VAEEncode" in templates["img2img-sd15-lora"].required_nodes


@pytest.mark.parametrize("name", sorted(SD_BUILTINS))
def test_every_builtin_fills_and_passes_validation(templates: dict[str, Any], name: str) -> None:
    template = templates[name]
    values = {k: v for k, v in RUN.items() if k in template.parameters}
    filled = fill(template, values)
    assert validate(filled.graph, object_info(loras=["mia_v1.safetensors"])) == []
    assert filled.values["lora_name"] == "mia_v1.safetensors"


def test_filled_values_land_in_the_right_node_inputs(templates: dict[str, Any]) -> None:
    template = templates["txt2img-sd15-lora"]
    before = json.dumps(template.graph, sort_keys=True)
    filled = fill(template, {
        "positive": "mia smiling", "negative": "hats", "seed": 1234, "steps": 31, "cfg": 5.5,
        "sampler": "euler_ancestral", "scheduler": "normal", "width": 640, "height": 832,
        "batch_size": 2, "checkpoint": "other.safetensors", "lora_name": "mia_v1.safetensors",
        "lora_strength": 0.65, "filename_prefix": "mia/job1"})
    g = filled.graph
    assert inputs(g, "6")["text"] == "mia smiling" and inputs(g, "7")["text"] == "hats"
    sampler = ("seed", "steps", "cfg", "sampler_name", "scheduler")
    assert {k: inputs(g, "3")[k] for k in sampler} == {
        "seed": 1234, "steps": 31, "cfg": 5.5, "sampler_name": "euler_ancestral",
        "scheduler": "normal"}
    assert inputs(g, "5") == {"width": 640, "height": 832, "batch_size": 2}
    assert inputs(g, "4")["ckpt_name"] == "other.safetensors"
    assert (inputs(g, "10")["lora_name"], inputs(g, "10")["strength_model"],
            inputs(g, "10")["strength_clip"]) == ("mia_v1.safetensors", 0.65, 0.65)
    assert inputs(g, "9")["filename_prefix"] == "mia/job1"
    assert filled.seed == 1234 and filled.values["steps"] == 31
    assert json.dumps(template.graph, sort_keys=True) == before  # the template is untouched


def test_defaults_suit_the_base_model(templates: dict[str, Any]) -> None:
    sdxl = fill(templates["txt2img-sdxl-lora"], {}).graph
    sd15 = fill(templates["txt2img-sd15-lora"], {}).graph
    assert (inputs(sdxl, "5")["width"], inputs(sdxl, "5")["height"]) == (1024, 1024)
    assert (inputs(sd15, "5")["width"], inputs(sd15, "5")["height"]) == (512, 512)
    assert inputs(sdxl, "4")["ckpt_name"] == "sd_xl_base_1.0.safetensors"
    assert inputs(sdxl, "3")["steps"] >= inputs(sd15, "3")["steps"]
    assert inputs(sdxl, "3")["cfg"] < inputs(sd15, "3")["cfg"]
    img2img = fill(templates["img2img-sd15-lora"], {"denoise": 0.35, "input_image": "in.png"})
    assert inputs(img2img.graph, "3")["denoise"] == 0.35
    assert inputs(img2img.graph, "11")["image"] == "in.png"
    assert inputs(img2img.graph, "3")["latent_image"] == ["12", 0]


def test_controlnet_strength_and_pose_image_reach_the_controlnet_nodes(
        templates: dict[str, Any]) -> None:
    filled = fill(templates["controlnet-pose-sd15-lora"],
                  {"pose_image": "jobs/pose 1.png", "controlnet_strength": 0.7,
                   "controlnet": "cn.safetensors"})
    assert inputs(filled.graph, "11")["image"] == "jobs/pose 1.png"
    assert inputs(filled.graph, "13")["strength"] == 0.7
    assert inputs(filled.graph, "12")["control_net_name"] == "cn.safetensors"
    assert validate(filled.graph, object_info(controlnets=[]))[0].message == (
        "The ControlNet model 'cn.safetensors' is not in ComfyUI's controlnet folder, "
        "which is empty.")


def test_lora_strength_given_separately_overrides_one_side(templates: dict[str, Any]) -> None:
    filled = fill(templates["txt2img-sd15-lora"],
                  {"lora_name": "a.safetensors", "lora_strength": 0.9, "lora_strength_clip": 0.3})
    assert (inputs(filled.graph, "10")["strength_model"],
            inputs(filled.graph, "10")["strength_clip"]) == (0.9, 0.3)


def test_empty_lora_name_runs_without_the_lora_rewiring_its_consumers(
        templates: dict[str, Any]) -> None:
    filled = fill(templates["txt2img-sd15-lora"], {"lora_name": ""})
    g = filled.graph
    assert "10" not in g
    assert inputs(g, "3")["model"] == ["4", 0]
    assert inputs(g, "6")["clip"] == ["4", 1] and inputs(g, "7")["clip"] == ["4", 1]
    assert filled.values["lora_name"] is None and filled.values["lora_strength"] is None
    assert validate(g, object_info()) == []


def test_seed_none_or_minus_one_draws_a_random_seed_and_returns_it(
        templates: dict[str, Any]) -> None:
    template = templates["txt2img-sd15-lora"]
    seeds = set()
    for value in (None, -1, "-1"):
        filled = fill(template, {"seed": value})
        assert 0 <= filled.seed <= RANDOM_SEED_LIMIT
        assert inputs(filled.graph, "3")["seed"] == filled.seed == filled.values["seed"]
        seeds.add(filled.seed)
    assert len(seeds) > 1  # 3 draws out of 2**31 repeat with a chance of about 1e-9
    assert fill(template, {}).seed is not None  # no seed given: random too
    assert fill(template, {"seed": 2**64 - 1}).seed == 2**64 - 1  # ComfyUI's own maximum


@pytest.mark.parametrize(("values", "message"), [
    ({"steps": "many"}, "steps must be a whole number, not 'many'."),
    ({"steps": 0}, "steps must be between 1 and 200, not 0."),
    ({"steps": 20.5}, "steps must be a whole number, not 20.5."),
    ({"cfg": "strong"}, "cfg must be a number, not 'strong'."),
    ({"cfg": float("nan")}, "cfg must be a number, not nan."),
    ({"width": 513}, "width must be a multiple of 8, not 513."),
    ({"batch_size": True}, "batch_size must be a whole number, not True."),
    ({"positive": 5}, "positive must be text, not 5."),
    ({"seed": -2}, "seed must be between 0 and 18446744073709551615, not -2."),
    ({"lora_strength": 9}, "lora_strength must be between -4.0 and 4.0, not 9.0."),
    ({"stpes": 20}, "The workflow 'txt2img-sd15-lora' has no parameter 'stpes'; its parameters"),
])
def test_bad_values_are_refused_naming_the_parameter(
        templates: dict[str, Any], values: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        fill(templates["txt2img-sd15-lora"], values)
    assert str(caught.value).startswith(message)


def test_image_parameter_needs_a_file_name(templates: dict[str, Any]) -> None:
    with pytest.raises(InvalidInput, match="^input_image needs the name of an image"):
        fill(templates["img2img-sd15-lora"], {"input_image": " "})


def test_text_from_a_command_line_is_converted(templates: dict[str, Any]) -> None:
    filled = fill(templates["txt2img-sd15-lora"], {"steps": "30", "cfg": "6.5", "seed": "77"})
    assert (inputs(filled.graph, "3")["steps"], inputs(filled.graph, "3")["cfg"],
            filled.seed) == (30, 6.5, 77)


def test_ui_format_workflow_is_refused_with_the_export_hint(tmp_path: Path) -> None:
    path = tmp_path / "mine.json"
    path.write_text(json.dumps({"last_node_id": 9, "nodes": [{"id": 3, "type": "KSampler"}],
                                "links": [[1, 4, 0, 3, 0, "MODEL"]], "version": 0.4}))
    with pytest.raises(InvalidInput) as caught:
        load_user_workflow(path)
    assert str(caught.value) == ("mine.json is a ComfyUI UI workflow; save it from ComfyUI with "
                                 "Workflow > Export (API) and use that file.")


def test_unmapped_user_workflow_runs_exactly_as_exported(tmp_path: Path) -> None:
    path = tmp_path / "my flow.json"
    path.write_text(json.dumps(txt2img()))
    template = load_user_workflow(path)
    assert (template.name, template.base, template.kind, template.parameters) == (
        "my flow", "other", "custom", {})
    assert template.models["lora"].node == "10" and template.models["checkpoint"].node == "4"
    filled = fill(template, {})
    assert filled.graph == txt2img() and filled.seed is None
    with pytest.raises(InvalidInput, match="has no parameter 'seed'; its parameters are: none"):
        fill(template, {"seed": 1})


def test_user_mapping_names_parameters_with_types_from_the_graph(tmp_path: Path) -> None:
    path = tmp_path / "flow.json"
    path.write_text(json.dumps(txt2img()))
    template = load_user_workflow(path, {
        "seed": "3.seed", "positive": "6.text", "cfg": "3.cfg",
        "lora_strength": ["10.strength_model", "10.strength_clip"]})
    assert {n: p.type for n, p in template.parameters.items()} == {
        "seed": "int", "positive": "str", "cfg": "float", "lora_strength": "float"}
    assert template.parameters["cfg"].default == 7.0
    filled = fill(template, {"seed": 9, "positive": "mia", "lora_strength": 0.5})
    assert inputs(filled.graph, "3")["seed"] == 9 and inputs(filled.graph, "6")["text"] == "mia"
    assert inputs(filled.graph, "10")["strength_clip"] == 0.5
    assert inputs(filled.graph, "3")["cfg"] == 7.0  # not given: as exported


@pytest.mark.parametrize(("mapping", "message"), [
    ({"seed": "99.seed"}, "flow.json: 'seed' points at 99.seed, which is not an input"),
    ({"model": "3.model"}, "flow.json: 'model' points at 3.model, which is a link"),
    ({"seed": "seed"}, "'seed' does not name a node input; write NODE.INPUT"),
])
def test_bad_user_mapping_is_refused(tmp_path: Path, mapping: dict[str, str],
                                     message: str) -> None:
    path = tmp_path / "flow.json"
    path.write_text(json.dumps(txt2img()))
    with pytest.raises(InvalidInput) as caught:
        load_user_workflow(path, mapping)
    assert str(caught.value).startswith(message)


def test_user_folder_is_loaded_and_broken_files_are_reported_not_fatal(tmp_path: Path) -> None:
    (tmp_path / "good.json").write_text(json.dumps(txt2img()))
    (tmp_path / "mapped.json").write_text(json.dumps(txt2img()))
    (tmp_path / "mapped.params.json").write_text(json.dumps(
        {"title": "Mapped", "parameters": {"seed": "3.seed", "steps": {"node": "3",
                                                                       "input": "steps"}}}))
    (tmp_path / "broken.json").write_text("{not json")
    (tmp_path / "ui.json").write_text(json.dumps({"nodes": [], "links": []}))
    (tmp_path / "txt2img-sd15-lora.json").write_text(json.dumps(txt2img()))
    loaded = load_templates(tmp_path)
    assert set(BUILTINS) | {"good", "mapped"} == set(loaded.templates)
    assert loaded.templates["mapped"].title == "Mapped"
    assert set(loaded.templates["mapped"].parameters) == {"seed", "steps"}
    assert len(loaded.errors) == 3
    assert loaded.errors[0].startswith("The workflow broken.json cannot be read:")
    assert loaded.errors[1].startswith("The workflow txt2img-sd15-lora.json has the same name")
    assert loaded.errors[2].startswith("ui.json is a ComfyUI UI workflow")
    assert loaded.templates["txt2img-sd15-lora"].path.parent == BUILTIN_DIR


def test_guess_finds_the_parameters_of_the_captured_txt2img_graph() -> None:
    assert guess_parameters(txt2img()) == {
        "seed": "3.seed", "steps": "3.steps", "cfg": "3.cfg", "sampler": "3.sampler_name",
        "scheduler": "3.scheduler", "denoise": "3.denoise", "checkpoint": "4.ckpt_name",
        "width": "5.width", "height": "5.height", "batch_size": "5.batch_size",
        "filename_prefix": "9.filename_prefix", "lora_name": "10.lora_name",
        "lora_strength": ["10.strength_model", "10.strength_clip"],
        "positive": "6.text", "negative": "7.text"}


def test_guess_follows_prompts_through_controlnet_and_tells_pose_from_input_image(
        templates: dict[str, Any]) -> None:
    pose = guess_parameters(templates["controlnet-pose-sd15-lora"].graph)
    assert (pose["positive"], pose["negative"], pose["pose_image"], pose["controlnet"],
            pose["controlnet_strength"]) == ("6.text", "7.text", "11.image",
                                             "12.control_net_name", "13.strength")
    assert "input_image" not in pose
    assert guess_parameters(templates["img2img-sd15-lora"].graph)["input_image"] == "11.image"


def test_guessed_mapping_is_usable_as_a_user_mapping(tmp_path: Path) -> None:
    path = tmp_path / "flow.json"
    path.write_text(json.dumps(txt2img()))
    template = load_user_workflow(path, guess_parameters(txt2img()))
    filled = fill(template, {"positive": "mia", "seed": -1, "lora_strength": 0.4})
    assert inputs(filled.graph, "6")["text"] == "mia"
    assert 0 <= filled.seed <= RANDOM_SEED_LIMIT
    assert filled.seed == inputs(filled.graph, "3")["seed"]
    assert inputs(filled.graph, "10")["strength_model"] == 0.4
    assert validate(filled.graph, object_info()) == []


def test_set_input_converts_text_to_the_existing_type() -> None:
    graph = txt2img()
    set_input(graph, "3.steps", "30")
    set_input(graph, "3.cfg", "4.5")
    set_input(graph, "6.text", "a cat")
    set_input(graph, "9.new_input", "x")  # an input the node did not have yet
    assert (inputs(graph, "3")["steps"], inputs(graph, "3")["cfg"]) == (30, 4.5)
    assert inputs(graph, "6")["text"] == "a cat" and inputs(graph, "9")["new_input"] == "x"


@pytest.mark.parametrize(("key", "value", "message"), [
    ("99.seed", "1", "The workflow has no node '99'; its nodes are: 4, 10, 6, 7, 5 (and 3 more)."),
    ("seed", "1", "'seed' does not name a node input; write NODE.INPUT, for example 3.seed."),
    ("3.model", "x", "Input 3.model is linked to node 10; only a value can be set."),
    ("3.cfg", "high", "3.cfg must be a number, not 'high'."),
])
def test_set_input_errors_are_plain(key: str, value: str, message: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        set_input(txt2img(), key, value)
    assert str(caught.value) == message


def test_parameter_choices_come_from_object_info(templates: dict[str, Any]) -> None:
    template = templates["txt2img-sd15-lora"]
    info = object_info(loras=["mia_v1.safetensors"])
    assert parameter_choices(template, "lora_name", info) == ["mia_v1.safetensors"]
    assert "dpmpp_2m" in parameter_choices(template, "sampler", info)
    assert parameter_choices(template, "steps", info) is None
