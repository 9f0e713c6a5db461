"""A sample dataset the studio draws itself, so a new user can try curation at once.

Twelve simple painted portraits of one made-up character in different poses, framings and
light, plus what a real shoot brings along: a near-duplicate, a blurred frame and a dark one,
so the analysis has something to find. Nothing is downloaded.
"""
from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter

from studio.engine.core import Studio
from studio.engine.datasets.jobs import submit_import
from studio.engine.datasets.service import create_dataset
from studio.engine.db.models import Dataset, Job

SAMPLE_NAME = "Sample"
SIZE = 768
_BACKGROUNDS = ((214, 196, 180), (120, 150, 170), (200, 210, 190), (60, 70, 90), (230, 200, 150))
_SKIN = (224, 172, 140)
_HAIR = (70, 45, 35)


@dataclass(frozen=True, slots=True)
class Pose:
    x: float  # face centre, as a fraction of the width
    y: float
    scale: float  # face height, as a fraction of the picture
    background: tuple[int, int, int]
    shirt: tuple[int, int, int]


def _poses(rng: random.Random, count: int) -> list[Pose]:
    return [Pose(x=rng.uniform(0.38, 0.62), y=rng.uniform(0.32, 0.45), scale=rng.uniform(0.22, 0.42),
                 background=_BACKGROUNDS[i % len(_BACKGROUNDS)],
                 shirt=(rng.randrange(40, 200), rng.randrange(40, 200), rng.randrange(40, 200)))
            for i in range(count)]


def draw_portrait(pose: Pose, size: int = SIZE) -> Image.Image:
    image = Image.new("RGB", (size, size), pose.background)
    draw = ImageDraw.Draw(image)
    face_h = pose.scale * size
    face_w = face_h * 0.78
    cx, cy = pose.x * size, pose.y * size
    draw.ellipse((cx - face_w * 1.5, cy + face_h * 0.55, cx + face_w * 1.5, cy + face_h * 2.6), fill=pose.shirt)
    draw.rectangle((cx - face_w * 0.18, cy + face_h * 0.35, cx + face_w * 0.18, cy + face_h * 0.75), fill=_SKIN)
    draw.ellipse((cx - face_w * 0.62, cy - face_h * 0.62, cx + face_w * 0.62, cy + face_h * 0.4), fill=_HAIR)
    draw.ellipse((cx - face_w / 2, cy - face_h / 2, cx + face_w / 2, cy + face_h / 2), fill=_SKIN)
    for side in (-1, 1):
        ex = cx + side * face_w * 0.2
        ey = cy - face_h * 0.06
        draw.ellipse((ex - face_w * 0.08, ey - face_h * 0.04, ex + face_w * 0.08, ey + face_h * 0.04),
                     fill=(250, 250, 250))
        draw.ellipse((ex - face_w * 0.035, ey - face_h * 0.035, ex + face_w * 0.035, ey + face_h * 0.035),
                     fill=(50, 40, 35))
        draw.line((ex - face_w * 0.1, ey - face_h * 0.1, ex + face_w * 0.1, ey - face_h * 0.11),
                  fill=_HAIR, width=max(2, int(face_h * 0.02)))
    draw.line((cx, cy, cx - face_w * 0.04, cy + face_h * 0.12), fill=(190, 130, 105), width=max(2, int(face_h * 0.015)))
    draw.arc((cx - face_w * 0.17, cy + face_h * 0.1, cx + face_w * 0.17, cy + face_h * 0.3), 20, 160,
             fill=(160, 70, 80), width=max(2, int(face_h * 0.025)))
    return image


def make_sample_images(folder: Path, *, count: int = 12, seed: int = 7) -> list[Path]:
    """Writes the sample pictures into ``folder`` and returns their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    paths = []
    for index, pose in enumerate(_poses(rng, count), start=1):
        path = folder / f"sample-{index:02d}.jpg"
        draw_portrait(pose).save(path, quality=92)
        paths.append(path)
    first = Image.open(paths[0])
    extras = {
        "sample-near-duplicate.jpg": first.resize((SIZE - 64, SIZE - 64)),  # same shot, resized
        "sample-blurred.jpg": first.filter(ImageFilter.GaussianBlur(9)),
        "sample-dark.jpg": Image.eval(Image.open(paths[1]), lambda v: v // 6),
    }
    for name, picture in extras.items():
        path = folder / name
        picture.save(path, quality=92)
        paths.append(path)
    return paths


def import_sample(studio: Studio, workspace_id: uuid.UUID, influencer_id: uuid.UUID,
                  scratch: Path | None = None) -> tuple[Dataset, Job]:
    """A "Sample" dataset for the influencer, its pictures drawn now and queued for import."""
    dataset = create_dataset(studio, workspace_id, influencer_id, SAMPLE_NAME, class_token="person")
    folder = scratch or studio.paths.cache_dir / "sample-dataset" / uuid.uuid4().hex[:8]
    return dataset, submit_import(studio, dataset, make_sample_images(folder))
