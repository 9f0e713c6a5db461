"""What ComfyUI tests in several files and folders share: a captured graph, generation jobs, and
a ComfyUI folder for the supervisor."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from studio.engine.comfyui.generation import GenerationRequest, submit_generation
from studio.engine.core import Studio
from studio.engine.db.models import Influencer, Job
from tests.conftest import run_next_task

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

# What the fake has; 4 steps keep every prompt quick.
BASE: dict[str, object] = {"checkpoint": "sd15.safetensors", "lora_name": "mia_v1.safetensors",
                           "positive": "photo of mia on a beach", "steps": 4}

FAKE_MAIN = Path(__file__).resolve().parents[2] / "fakes" / "fake_comfyui_main.py"


def submit(studio: Studio, template: str = "txt2img-sd15-lora", count: int = 1,
           influencer: Influencer | None = None, **values: object) -> list[Job]:
    request = GenerationRequest(influencer_id=influencer.id if influencer else None,
                                template=template, values={**BASE, **values}, count=count)
    return submit_generation(studio, studio.workspace().id, request)


def run_next(studio: Studio) -> None:
    run_next_task(studio, "generation")


def reload(studio: Studio, job: Job) -> Job:
    return studio.jobs.get(job.workspace_id, job.id)


def comfy_folder(root: Path, script: Path | str = FAKE_MAIN) -> Path:
    """A ComfyUI folder whose main.py is the stand-in (or the given source)."""
    folder = root / "ComfyUI"
    folder.mkdir()
    if isinstance(script, Path):
        (folder / "main.py").symlink_to(script)  # resolves back into the repository for imports
    else:
        (folder / "main.py").write_text(script, encoding="utf-8")
    return folder
