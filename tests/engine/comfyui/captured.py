"""The /object_info replies captured from ComfyUI and the graph it refused, for the validation and
workflow tests.

The node definitions are the fake ComfyUI's: a real ComfyUI 0.3.64's /object_info
(tests/fakes/data/comfyui_object_info.json), with model lists as a server with these files gives.
"""
from __future__ import annotations

import copy
from typing import Any

from tests.fakes.comfyui_nodes import definitions

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
    folders = {"checkpoints": checkpoints, "loras": loras, "controlnet": controlnets}
    return definitions(folders=folders, input_files=["example.png"], extra={})


def txt2img() -> dict[str, Any]:
    return copy.deepcopy(TXT2IMG)
