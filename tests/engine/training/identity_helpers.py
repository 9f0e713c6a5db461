"""Identity in training tests (engine and Training page): Mia's references set to the
astronaut's face, and the fake sd-scripts told which real photos to write as samples per step."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image, ImageEnhance, ImageOps

from studio.engine.db.models import Influencer
from studio.engine.identity import descriptors
from studio.engine.identity.scoring import picture_faces
from tests.engine.training.helpers import Setup
from tests.photos import photo_image

PROMPTS = ["{trigger}, portrait photo", "{trigger}, smiling", "{trigger}, in a park"]


def variations(folder: Path) -> list[Path]:
    """Her (the astronaut) three ways: mirrored, cropped closer, in brighter light."""
    her = photo_image("astronaut")
    pictures = [ImageOps.mirror(her), her.crop((40, 0, 470, 430)).resize((512, 512)),
                ImageEnhance.Brightness(her).enhance(1.3)]
    return [save(p, folder / f"her-{i}.png") for i, p in enumerate(pictures)]


def save(image: Image.Image, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path)
    return path


def give_references(setup: Setup, folder: Path) -> None:
    """Mia's references as the identity engine stores them: the astronaut's own photo."""
    found, _ = picture_faces(save(photo_image("astronaut"), folder / "reference.png"))
    with setup.studio.db.session() as session:
        mia = session.get(Influencer, setup.influencer.id)
        assert mia is not None
        mia.identity = {"references": [{"source": "file", "image_id": None, "name": "reference.png",
                                        "descriptor": descriptors.encode(found[0])}],
                        "auto": False, "centroid": descriptors.encode(descriptors.centroid(found)),
                        "revision": 1, "updated_at": "2026-12-06T08:00:00+00:00"}


def choose_samples(monkeypatch: pytest.MonkeyPatch, folder: Path, chosen: dict[int, list[Path]]) -> None:
    listing = folder / "samples.json"
    listing.write_text(json.dumps({str(step): [str(p) for p in paths] for step, paths in chosen.items()}))
    monkeypatch.setenv("FAKE_SD_SCRIPTS_SAMPLE_PICTURES", str(listing))




def her_at(setup: Setup, folder: Path, monkeypatch: pytest.MonkeyPatch, steps: tuple[int, int, int]) -> None:
    """References set; samples of others at the first step, of her at the second, a mix at the third."""
    give_references(setup, folder)
    her = variations(folder / "pictures")
    hopper = save(photo_image("hopper"), folder / "pictures" / "hopper.png")
    luis = save(photo_image("luis"), folder / "pictures" / "luis.png")
    first, second, third = steps
    choose_samples(monkeypatch, folder, {first: [hopper, luis, hopper], second: her,
                                         third: [her[0], hopper, luis]})
