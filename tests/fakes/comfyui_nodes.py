"""The fake ComfyUI's node definitions, and the checks it makes with them before queueing a prompt.

Core node types come verbatim from a real ComfyUI's ``GET /object_info`` (data/
comfyui_object_info.json, with the version and date it was captured); node types of custom node
packs, which no real server here has, are hand-written from each pack's source and kept apart
(data/comfyui_custom_nodes.json). As the real server does on every request, the combo inputs that
name a models folder list that folder's files, and LoadImage lists the images in the input folder.
"""
from __future__ import annotations

import copy
import json
import mimetypes
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parent / "data"
_CAPTURE = json.loads((DATA / "comfyui_object_info.json").read_text("utf-8"))
REAL_OBJECT_INFO: dict[str, Any] = _CAPTURE["object_info"]
REAL_SYSTEM_STATS: dict[str, Any] = _CAPTURE["system_stats"]
CAPTURED_FROM = {key: _CAPTURE[key] for key in ("comfyui_version", "comfyui_commit", "captured_on")}
CUSTOM_PACKS: dict[str, dict[str, Any]] = json.loads(
    (DATA / "comfyui_custom_nodes.json").read_text("utf-8"))["packs"]
# What the studio's AnimateDiff video templates need on top of core ComfyUI.
VIDEO_PACKS = ("ComfyUI-AnimateDiff-Evolved", "ComfyUI-VideoHelperSuite")
# Combo inputs whose options the real server reads from a models folder: input name -> folder.
FOLDER_INPUTS = {"ckpt_name": "checkpoints", "lora_name": "loras", "control_net_name": "controlnet",
                 "vae_name": "vae", "unet_name": "diffusion_models"}
# Inputs whose folder depends on the node type (clip_name is a text encoder or a CLIP vision
# model): node type -> input name -> folder; these win over FOLDER_INPUTS.
NODE_FOLDER_INPUTS = {
    "UNETLoader": {"unet_name": "diffusion_models"},
    "DualCLIPLoader": {"clip_name1": "text_encoders", "clip_name2": "text_encoders"},
    "CLIPLoader": {"clip_name": "text_encoders"},
    "CLIPVisionLoader": {"clip_name": "clip_vision"},
}
_LONG_LIST = 20  # ComfyUI shortens a refused combo's options past this many


def pack_nodes(packs: Iterable[str]) -> dict[str, Any]:
    """The hand-written definitions of these custom node packs' node types (a copy to change)."""
    found: dict[str, Any] = {}
    for pack in packs:
        if pack not in CUSTOM_PACKS:
            raise ValueError(f"no definitions for custom node pack {pack}; have {sorted(CUSTOM_PACKS)}")
        found.update(copy.deepcopy(CUSTOM_PACKS[pack]))
    return found


def definitions(*, folders: Mapping[str, Sequence[str]], input_files: Iterable[str],
                extra: Mapping[str, Any], only: str | None = None) -> dict[str, Any]:
    """``/object_info`` as the real server answers it with these folders (extra entries win);
    with ``only``, that node type alone, built alone as ``/object_info/<Class>`` builds it."""
    every = {**REAL_OBJECT_INFO, **extra}
    info = copy.deepcopy(every if only is None else {k: v for k, v in every.items() if k == only})
    images = sorted(name for name in input_files if _is_image(name))
    for class_type, spec in info.items():
        _fill_lists(class_type, spec, folders, images)
        _in_input_order(spec)
    return info


def combo_errors(inputs: Mapping[str, Any], spec: Mapping[str, Any]) -> list[dict[str, Any]]:
    """ComfyUI's ``value_not_in_list`` errors for the node's literal combo inputs.

    Only old-style combos (``[[options], {...}]``) are checked, as ComfyUI 0.3.64 does: a value
    outside a new-style ``["COMBO", {"options"}]`` passes validation and fails when the node runs.
    Upload inputs are left to the node's own file check.
    """
    errors = []
    for name, declared in _declared(spec).items():
        value = inputs.get(name)
        if name not in inputs or isinstance(value, list) or not _is_old_combo(declared):
            continue
        options, extra = declared[0], _extra(declared)
        if extra.get("image_upload") or value in options:
            continue
        long = len(options) > _LONG_LIST
        shown = f"(list of length {len(options)})" if long else str(options)
        errors.append({"type": "value_not_in_list", "message": "Value not in list",
                       "details": f"{name}: '{value}' not in {shown}",
                       "extra_info": {"input_name": name, "received_value": value,
                                      "input_config": None if long else [options, extra]}})
    return errors


def _declared(spec: Mapping[str, Any]) -> dict[str, Any]:
    inputs = spec.get("input") or {}
    return {**(inputs.get("required") or {}), **(inputs.get("optional") or {})}


def _is_old_combo(declared: object) -> bool:
    return isinstance(declared, list) and bool(declared) and isinstance(declared[0], list)


def _extra(declared: list[Any]) -> dict[str, Any]:
    return declared[1] if len(declared) > 1 and isinstance(declared[1], dict) else {}


def _is_image(name: str) -> bool:
    kind = mimetypes.guess_type(name)[0]
    return kind is not None and kind.startswith("image/")


def folder_of(class_type: str, input_name: str) -> str | None:
    """The models folder whose files the real server lists for this node's input, if any."""
    return NODE_FOLDER_INPUTS.get(class_type, {}).get(input_name) or FOLDER_INPUTS.get(input_name)


def _fill_lists(class_type: str, spec: dict[str, Any], folders: Mapping[str, Sequence[str]],
                images: list[str]) -> None:
    for name, declared in _declared(spec).items():
        if not _is_old_combo(declared):
            continue
        folder = folder_of(class_type, name)
        if folder is not None and folder in folders:
            declared[0] = list(folders[folder])
        elif _extra(declared).get("image_upload"):
            declared[0] = list(images)


def _in_input_order(spec: dict[str, Any]) -> None:
    """The data file keeps sorted keys; the server sends each group in its declared order."""
    inputs = spec.get("input") or {}
    for group, names in (spec.get("input_order") or {}).items():
        values = inputs.get(group)
        if isinstance(values, dict):
            inputs[group] = {name: values[name] for name in names if name in values} | values
