"""What ComfyUI tests in several folders share."""
from __future__ import annotations

from typing import Any

# The captured txt2img + LoRA graph [workflow_txt2img_lora_api_format.json], with models the fake has.
TXT2IMG: dict[str, Any] = {
    "4": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "sd15.safetensors"}},
    "10": {"class_type": "LoraLoader", "inputs": {"model": ["4", 0], "clip": ["4", 1],
           "lora_name": "mia_v1.safetensors", "strength_model": 0.8, "strength_clip": 0.8}},
    "6": {"class_type": "CLIPTextEncode", "inputs": {"text": "a photo of mia", "clip": ["10", 1]}},
    "7": {"class_type": "CLIPTextEncode", "inputs": {"text": "blurry", "clip": ["10", 1]}},
    "5": {"class_type": "EmptyLatentImage", "inputs": {"width": 512, "height": 512, "batch_size": 2}},
    "3": {"class_type": "KSampler", "inputs": {"model": ["10", 0], "positive": ["6", 0],
          "negative": ["7", 0], "latent_image": ["5", 0], "seed": 42, "steps": 4, "cfg": 7.0,
          "sampler_name": "euler", "scheduler": "normal", "denoise": 1.0},
          "_meta": {"title": "Sampler"}},
    "8": {"class_type": "VAEDecode", "inputs": {"samples": ["3", 0], "vae": ["4", 2]}},
    "9": {"class_type": "SaveImage", "inputs": {"images": ["8", 0], "filename_prefix": "mia/shot"}},
}
