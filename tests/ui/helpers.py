"""What several UI tests share: pictures made with Pillow, the Generate page, generated images."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from PIL import Image

from studio.engine.comfyui.generation import GenerationRequest, submit_generation
from studio.engine.core import Studio
from studio.engine.db.models import Influencer, Job
from studio.engine.jobs.status import JobStatus
from studio.ui.context import StudioContext
from studio.ui.pages.generate import GeneratePage
from tests.conftest import run_next_task

# What the fake ComfyUI of the UI tests offers (the ``fake`` fixture in conftest.py).
CHECKPOINTS = ["v1-5-pruned-emaonly.safetensors", "sd_xl_base_1.0.safetensors"]
LORAS = ["mira_v1.safetensors", "film_grain.safetensors"]
GENERATED: dict[str, object] = {"positive": "mira_v1, portrait on a rooftop", "steps": 4,
                                "lora_name": "mira_v1.safetensors"}


def make_images(folder: Path, count: int, *, size: int = 64, prefix: str = "img") -> list[Path]:
    """Distinct JPEGs (noise, so each has its own hash and real decoding work)."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for index in range(count):
        path = folder / f"{prefix}-{index:03d}.jpg"
        Image.effect_noise((size, size), 60).convert("RGB").save(path, quality=92)
        paths.append(path)
    return paths


def make_portrait(path: Path, color: tuple[int, int, int] = (200, 120, 150)) -> Path:
    """A simple face-like portrait, for avatars and screenshots."""
    from PIL import ImageDraw
    image = Image.new("RGB", (512, 512), (235, 228, 220))
    draw = ImageDraw.Draw(image)
    draw.ellipse((136, 80, 376, 350), fill=color)
    draw.rectangle((96, 380, 416, 512), fill=tuple(max(c - 60, 0) for c in color))
    draw.ellipse((196, 180, 226, 210), fill=(40, 40, 40))
    draw.ellipse((286, 180, 316, 210), fill=(40, 40, 40))
    draw.arc((210, 230, 302, 300), 20, 160, fill=(90, 30, 40), width=6)
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path)
    return path


def open_page(qtbot: Any, context: StudioContext) -> GeneratePage:
    page = GeneratePage(context)
    qtbot.addWidget(page)
    page.resize(1100, 720)
    page.show()
    qtbot.waitUntil(lambda: page.current_template() is not None)
    return page


def run_next(studio: Studio) -> None:
    run_next_task(studio, "generation")


def make_generated(studio: Studio, influencer: Influencer, seeds: list[int]) -> list[Job]:
    """One finished generate-image job per seed, run through the real runner."""
    jobs = []
    for seed in seeds:
        request = GenerationRequest(influencer_id=influencer.id, template="txt2img-sd15-lora",
                                    values={**GENERATED, "seed": seed})
        [job] = submit_generation(studio, studio.workspace().id, request)
        run_next(studio)
        assert studio.jobs.get(job.workspace_id, job.id).status == JobStatus.COMPLETED
        jobs.append(job)
    return jobs
