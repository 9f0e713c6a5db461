"""Pictures of chosen people as ComfyUI outputs, and an influencer's references set from one of
them, for the identity tests of generations, the gallery, the grid and pipelines."""
from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import numpy as np
from PIL import ImageOps

from studio.engine.core import Studio
from studio.engine.db.models import Influencer
from studio.engine.db.repositories import Repository
from studio.engine.identity import descriptors, model
from tests.photos import photo_image


def png_of(name: str) -> bytes:
    """One of tests/photos.py's people as PNG bytes, as ComfyUI's SaveImage writes them."""
    buffer = io.BytesIO()
    photo_image(name).save(buffer, format="PNG")
    return buffer.getvalue()


def set_references(studio: Studio, influencer: Influencer, name: str, *, revision: int = 1) -> None:
    """Her references: the mirrored photo of ``name`` (so a generation of the photo itself is a
    likeness, not the same picture), stored as ``Influencer.identity`` is."""
    rgb = np.asarray(ImageOps.mirror(photo_image(name)))
    [(box, _score)] = model.detect(rgb)
    [face] = model.describe(rgb, [box])
    stored = descriptors.encode(face)
    identity = {"references": [{"source": "file", "image_id": None, "name": f"{name}.png",
                                "descriptor": stored}],
                "auto": False, "centroid": stored, "revision": revision, "updated_at": "2026-12-06T08:00:00+00:00"}
    with studio.db.session() as session:
        repo = Repository(session, influencer.workspace_id)
        repo.update(repo.get(Influencer, influencer.id), identity=identity)


def by_seed(pictures: dict[int, str]) -> Callable[[dict[str, Any]], bytes | None]:
    """The fake ComfyUI's ``picture_for``: the person each KSampler seed makes (others: none)."""
    def choose(graph: dict[str, Any]) -> bytes | None:
        seeds = [node["inputs"].get("seed") for node in graph.values() if node.get("class_type") == "KSampler"]
        person = next((pictures[s] for s in seeds if s in pictures), None)
        return png_of(person) if person else None
    return choose


def by_order(people: list[str]) -> Callable[[dict[str, Any]], bytes | None]:
    """The fake ComfyUI's ``picture_for``: each prompt's picture in turn, the last one after."""
    queue = list(people)

    def choose(_graph: dict[str, Any]) -> bytes | None:
        return png_of(queue.pop(0) if len(queue) > 1 else queue[0])
    return choose
