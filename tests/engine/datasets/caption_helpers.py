"""Datasets with images made in the test, written straight to the database and asset store.

The caption, export and auto-caption tests use these instead of the importer, so they test
their own module only.
"""
from __future__ import annotations

import hashlib
import io
from typing import Any

from PIL import Image

from studio.engine.core import Studio
from studio.engine.datasets.service import create_dataset
from studio.engine.db.models import Dataset, DatasetImage
from studio.engine.db.repositories import Repository
from studio.engine.influencers import Persona, create_influencer


def make_dataset(studio: Studio, *, trigger: str = "mia_v", class_token: str = "woman",
                 repeats: int = 10, influencer: str = "Mia") -> Dataset:
    workspace = studio.workspace()
    person = create_influencer(studio, workspace.id, Persona(name=influencer, trigger_word=trigger))
    return create_dataset(studio, workspace.id, person.id, "Set A", class_token=class_token,
                          repeats=repeats)


def image_bytes(seed: int, *, size: tuple[int, int] = (48, 32), fmt: str = "PNG",
                exif_orientation: int | None = None) -> bytes:
    img = Image.new("RGB", size, ((seed * 37) % 256, (seed * 91) % 256, (seed * 53) % 256))
    img.putpixel((seed % size[0], 0), (255, 255, 255))  # distinct content per seed
    buffer = io.BytesIO()
    options: dict[str, Any] = {}
    if exif_orientation is not None:
        exif = Image.Exif()
        exif[0x0112] = exif_orientation
        options["exif"] = exif.tobytes()
    img.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def add_image(studio: Studio, dataset: Dataset, seed: int, *, caption: str = "",
              data: bytes | None = None, ext: str = ".png", **fields: Any) -> DatasetImage:
    data = data if data is not None else image_bytes(seed)
    sha = hashlib.sha256(data).hexdigest()
    key = f"datasets/{dataset.workspace_id}/{dataset.id}/{sha}{ext}"
    path = studio.asset_path(key)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    with studio.db.session() as session:
        return Repository(session, dataset.workspace_id).add(DatasetImage(
            dataset_id=dataset.id, storage_key=key, original_name=f"img_{seed:03d}{ext}",
            source_name=f"img_{seed:03d}{ext}", sha256=sha, caption=caption,
            size_bytes=len(data), **fields))


def captions_of(studio: Studio, dataset: Dataset) -> dict[str, str]:
    """original name → caption, for whole-dataset comparisons."""
    from studio.engine.datasets.service import list_images
    return {i.original_name: i.caption for i in list_images(studio, dataset)}
