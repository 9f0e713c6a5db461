"""The /object_info replies captured from ComfyUI and the graph it refused, for the validation and
workflow tests.

object_info_captured.json holds the GET /object_info/<Class> replies captured from ComfyUI 0.3.64
(shared/protocols/comfyui-samples); object_info_extra.json adds the built-in nodes the captures
lack, written from ComfyUI's nodes.py with their real input names, types and limits.
"""
from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
_BASE: dict[str, Any] = {}
for _name in ("object_info_captured.json", "object_info_extra.json"):
    _BASE.update(json.loads((HERE / _name).read_text(encoding="utf-8")))

CHECKPOINTS = ["v1-5-pruned-emaonly.safetensors", "sd_xl_base_1.0.safetensors"]
LORAS = ["mia_v1.safetensors", "my_style.safetensors"]
CONTROLNETS = ["control_v11p_sd15_openpose.pth"]

# workflow_txt2img_lora_api_format.json, the graph ComfyUI refused with "value_not_in_list"
# for ckpt_name and lora_name because the capturing server had no models.
TXT2IMG = {
    "4": {"class_type": "CheckpointLoaderSimple",
          "inputs": {"ckpt_name": "v1-5-pruned-emaonly.safetensors"}},
    "10": {"class_type": "LoraLoader",
           "inputs": {"model": ["4", 0], "clip": ["4", 1], "lora_name": "my_style.safetensors",
                      "strength_model": 0.8, "strength_clip": 0.8}},
    "6": {"class_type": "CLIPTextEncode",
          "inputs": {"text": "a photo of a cat, masterpiece", "clip": ["10", 1]}},
    "7": {"class_type": "CLIPTextEncode", "inputs": {"text": "blurry, lowres", "clip": ["10", 1]}},
    "5": {"class_type": "EmptyLatentImage",
          "inputs": {"width": 512, "height": 512, "batch_size": 1}},
    "3": {"class_type": "KSampler",
          "inputs": {"model": ["10", 0], "positive": ["6", 0], "negative": ["7", 0],
                     "latent_image": ["5", 0], "seed": 42, "steps": 20, "cfg": 7.0,
                     "sampler_name": "euler", "scheduler": "normal", "denoise": 1.0}},
    "8": {"class_type": "VAEDecode", "inputs": {"samples": ["3", 0], "vae": ["4", 2]}},
    "9": {"class_type": "SaveImage", "inputs": {"images": ["8", 0], "filename_prefix": "ComfyUI"}},
}


def object_info(checkpoints: list[str] = CHECKPOINTS, loras: list[str] = LORAS,
                controlnets: list[str] = CONTROLNETS) -> dict[str, Any]:
    """The captured definitions with model lists as a server with those files would report."""
    info = copy.deepcopy(_BASE)
    info["CheckpointLoaderSimple"]["input"]["required"]["ckpt_name"][0] = list(checkpoints)
    info["LoraLoader"]["input"]["required"]["lora_name"][0] = list(loras)
    info["ControlNetLoader"]["input"]["required"]["control_net_name"][0] = list(controlnets)
    return info


def txt2img() -> dict[str, Any]:
    return copy.deepcopy(TXT2IMG)
