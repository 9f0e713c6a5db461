"""The fake ComfyUI's node definitions are a real ComfyUI's: every node type a built-in template
uses is served from the captured /object_info (tests/fakes/data), or, for a custom node pack that
no real server here has, from the hand-written pack definitions, which are kept apart and marked."""
from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from studio.engine.comfyui.validation import custom_pack, validate
from studio.engine.comfyui.workflows import BUILTIN_DIR, SIDECAR_SUFFIX, WorkflowTemplate, load_template
from tests.fakes.comfyui_nodes import (
    CAPTURED_FROM,
    CUSTOM_PACKS,
    REAL_OBJECT_INFO,
    VIDEO_PACKS,
    folder_of,
)
from tests.fakes.comfyui_server import FakeComfyUI

CHECKPOINTS = ["sd15.safetensors", "svd_xt_1_1.safetensors"]
LORAS = ["mia_v1.safetensors"]
CONTROLNETS = ["control_v11p_sd15_openpose.pth"]
# One file in each folder of the newer families' loaders (UNETLoader, CLIPLoader, VAELoader…).
MODEL_FOLDERS = {"diffusion_models": ["model.safetensors"], "text_encoders": ["encoder.safetensors"],
                 "vae": ["vae.safetensors"], "clip_vision": ["clip_vision.safetensors"]}


def builtin_templates() -> list[WorkflowTemplate]:
    """Every template the studio ships, in any subfolder (video included)."""
    return [load_template(path) for path in sorted(BUILTIN_DIR.rglob("*.json"))
            if not path.name.endswith(SIDECAR_SUFFIX)]


def get(fake: FakeComfyUI, path: str) -> Any:
    with urllib.request.urlopen(fake.base_url + path, timeout=10) as reply:
        return json.loads(reply.read())


def post(fake: FakeComfyUI, path: str, body: dict[str, Any]) -> tuple[int, Any]:
    request = urllib.request.Request(fake.base_url + path, data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as reply:
            return reply.status, json.loads(reply.read())
    except urllib.error.HTTPError as refused:
        return refused.code, json.loads(refused.read())


def without_folder_lists(spec: dict[str, Any]) -> str:
    """The definition with the lists a server fills from its own folders blanked, keys sorted."""
    copied = json.loads(json.dumps(spec))
    for group in copied.get("input", {}).values():
        for name, declared in group.items() if isinstance(group, dict) else ():
            if isinstance(declared, list) and declared and isinstance(declared[0], list) and (
                    folder_of(copied.get("name", ""), name)
                    or (len(declared) > 1 and declared[1].get("image_upload"))):
                declared[0] = []
    return json.dumps(copied, sort_keys=True)


@pytest.fixture
def fake() -> Iterator[FakeComfyUI]:
    with FakeComfyUI(checkpoints=CHECKPOINTS, loras=LORAS, custom_packs=VIDEO_PACKS) as server:
        server.models["controlnet"] = list(CONTROLNETS)
        server.models.update({folder: list(files) for folder, files in MODEL_FOLDERS.items()})
        yield server


def test_the_capture_names_the_real_version_it_came_from(fake: FakeComfyUI) -> None:
    assert CAPTURED_FROM == {"comfyui_version": "0.3.64", "captured_on": "2026-12-05",
                             "comfyui_commit": "a125cd84b054a57729b5eecab930ca9408719832"}
    assert get(fake, "/system_stats")["system"]["comfyui_version"] == "0.3.64"


def test_every_template_node_is_served_from_the_real_capture_or_a_marked_pack(fake: FakeComfyUI) -> None:
    served = get(fake, "/object_info")
    hand_written = {name: pack for pack, nodes in CUSTOM_PACKS.items() for name in nodes}
    unsourced = []
    for template in builtin_templates():
        for class_type in template.required_nodes:
            if class_type in REAL_OBJECT_INFO:
                assert without_folder_lists(served[class_type]) == without_folder_lists(
                    REAL_OBJECT_INFO[class_type]), class_type
            elif class_type in hand_written:
                # Only a custom pack's node may be hand-written, and the studio must know its pack.
                assert custom_pack(class_type) == hand_written[class_type]
                assert served[class_type]["python_module"] == f"custom_nodes.{hand_written[class_type]}"
            else:
                unsourced.append(f"{template.name}: {class_type}")
    assert unsourced == [], ("capture these from a real ComfyUI's /object_info into "
                             "tests/fakes/data (tests/fakes/README.md says how)")


def test_the_hand_written_packs_are_no_core_nodes() -> None:
    for pack, nodes in CUSTOM_PACKS.items():
        assert nodes and not nodes.keys() & REAL_OBJECT_INFO.keys(), pack
        assert all(spec["python_module"] == f"custom_nodes.{pack}" for spec in nodes.values())


def test_folder_lists_are_the_fakes_own_folders_as_the_real_server_lists_them(fake: FakeComfyUI) -> None:
    served = get(fake, "/object_info")
    assert served["CheckpointLoaderSimple"]["input"]["required"]["ckpt_name"][0] == CHECKPOINTS
    assert served["ImageOnlyCheckpointLoader"]["input"]["required"]["ckpt_name"][0] == CHECKPOINTS
    assert served["LoraLoader"]["input"]["required"]["lora_name"][0] == LORAS
    assert served["LoraLoaderModelOnly"]["input"]["required"]["lora_name"][0] == LORAS
    assert served["ControlNetLoader"]["input"]["required"]["control_net_name"][0] == CONTROLNETS
    assert served["LoadImage"]["input"]["required"]["image"][0] == ["example.png"]
    # The same input name lists another folder on another node type (clip_name).
    required = {name: served[name]["input"]["required"] for name in (
        "UNETLoader", "DualCLIPLoader", "CLIPLoader", "CLIPVisionLoader", "VAELoader")}
    assert required["UNETLoader"]["unet_name"][0] == MODEL_FOLDERS["diffusion_models"]
    assert required["DualCLIPLoader"]["clip_name1"][0] == MODEL_FOLDERS["text_encoders"]
    assert required["DualCLIPLoader"]["clip_name2"][0] == MODEL_FOLDERS["text_encoders"]
    assert required["CLIPLoader"]["clip_name"][0] == MODEL_FOLDERS["text_encoders"]
    assert required["CLIPVisionLoader"]["clip_name"][0] == MODEL_FOLDERS["clip_vision"]
    assert required["VAELoader"]["vae_name"][0] == MODEL_FOLDERS["vae"]
    # The tooltip beside a list is the real server's, untouched.
    assert served["LoraLoader"]["input"]["required"]["lora_name"][1] == {"tooltip": "The name of the LoRA."}


def test_inputs_come_in_the_order_the_real_server_declares(fake: FakeComfyUI) -> None:
    sampler = get(fake, "/object_info/KSampler")["KSampler"]
    assert list(sampler["input"]["required"]) == sampler["input_order"]["required"] == [
        "model", "seed", "steps", "cfg", "sampler_name", "scheduler", "positive", "negative",
        "latent_image", "denoise"]


def test_every_builtin_template_passes_the_studios_check_against_the_real_definitions(
        fake: FakeComfyUI) -> None:
    info = get(fake, "/object_info")
    for template in builtin_templates():
        graph = json.loads(json.dumps(template.graph))
        for node in graph.values():
            for name, value in node["inputs"].items():
                folder = folder_of(node["class_type"], name)
                if folder is not None and isinstance(value, str):
                    node["inputs"][name] = fake.models[folder][0]
        assert validate(graph, info) == [], template.name


def test_combo_values_are_refused_as_the_real_server_refuses_them(fake: FakeComfyUI) -> None:
    # What ComfyUI 0.3.64 answered for this graph: only the old-style combo (ImageScale's
    # upscale_method) is checked; SaveWEBM's new-style codec passes; an unconnected node is
    # never looked at.
    graph = {"1": {"class_type": "EmptyImage", "inputs": {"width": 8, "height": 8, "batch_size": 1,
                                                         "color": 0}},
             "2": {"class_type": "SaveWEBM", "inputs": {"images": ["1", 0], "filename_prefix": "x",
                                                       "codec": "bogus", "fps": 8, "crf": 32}},
             "5": {"class_type": "ControlNetLoader", "inputs": {"control_net_name": "nope.pth"}},
             "6": {"class_type": "ImageScale", "inputs": {"image": ["1", 0], "upscale_method": "bogus",
                                                         "width": 8, "height": 8, "crop": "disabled"}},
             "7": {"class_type": "SaveImage", "inputs": {"images": ["6", 0], "filename_prefix": "y"}}}
    status, reply = post(fake, "/prompt", {"prompt": graph})
    assert status == 200
    assert reply["node_errors"] == {"6": {"errors": [{
        "type": "value_not_in_list", "message": "Value not in list",
        "details": "upscale_method: 'bogus' not in ['nearest-exact', 'bilinear', 'area', 'bicubic', "
                   "'lanczos']",
        "extra_info": {"input_name": "upscale_method", "received_value": "bogus",
                       "input_config": [["nearest-exact", "bilinear", "area", "bicubic", "lanczos"], {}]}}],
        "dependent_outputs": ["7"], "class_type": "ImageScale"}}


def test_a_custom_pack_node_is_unknown_until_its_pack_is_installed() -> None:
    graph = {"9": {"class_type": "VHS_VideoCombine", "inputs": {}}}
    with FakeComfyUI() as bare:
        status, reply = post(bare, "/prompt", {"prompt": graph})
        assert "VHS_VideoCombine" not in get(bare, "/object_info")
    assert status == 400
    assert reply["error"]["message"] == "Cannot execute because node VHS_VideoCombine does not exist."
