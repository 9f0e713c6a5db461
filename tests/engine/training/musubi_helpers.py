"""What the musubi-tuner tests share: the fake checkout, its Python and model files for a preset."""
from __future__ import annotations

import sys
from pathlib import Path

from studio.engine.core import Studio
from studio.engine.training.musubi_dataset import preset_table
from studio.engine.training.plan import TrainingRequest
from tests.engine.training.helpers import Setup

FAKE_MUSUBI = Path(__file__).resolve().parents[2] / "fakes" / "fake_musubi"
MUSUBI_PRESETS = ("qwen-image-likeness-24gb", "qwen-image-fast-test", "wan22-i2v-motion-24gb", "wan22-fast-test")


def use_fake_musubi(studio: Studio) -> None:
    """The fake needs numpy and safetensors, which this Python has."""
    studio.settings.musubi.folder = str(FAKE_MUSUBI)
    studio.settings.musubi.python = sys.executable
    studio.save_settings()


def stand_in(path: Path, size: int) -> Path:
    """A sparse file of a model's usual size (no disk used), which the size check takes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as handle:
        handle.truncate(size)
    return path


def model_files(folder: Path, preset: str) -> dict[str, object]:
    """A small stand-in file for every model the preset names, as --set values by option."""
    folder.mkdir(parents=True, exist_ok=True)
    values: dict[str, object] = {}
    for role, model in preset_table(preset, "models").items():
        path = stand_in(folder / str(model["file"]), int(model["size_bytes"]))
        values[str(model.get("option", role))] = str(path)
    return values


def musubi_request(setup: Setup, tmp: Path, preset: str = "qwen-image-fast-test",
                   **overrides: object) -> TrainingRequest:
    values = {**model_files(tmp / "models", preset), "max_train_steps": 6, "save_every_n_steps": 3,
              **overrides}
    return TrainingRequest(influencer_id=setup.influencer.id, dataset_id=setup.dataset.id,
                           preset=preset, overrides=values)
