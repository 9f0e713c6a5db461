"""What training tests here and in tests/ui share: an influencer with a small dataset, a base model
file, the fake sd-scripts; the fixtures are given to tests by the conftest files that import them."""
from __future__ import annotations

import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from studio.engine.core import Studio
from studio.engine.datasets.importer import import_paths
from studio.engine.datasets.service import create_dataset
from studio.engine.db.models import Dataset, Influencer, Job
from studio.engine.influencers import Persona, create_influencer
from studio.engine.training.plan import TrainingRequest
from tests.conftest import run_next_task
from tests.ui.helpers import make_images

FAKE_SD_SCRIPTS = Path(__file__).resolve().parents[2] / "fakes" / "fake_sd_scripts"


@dataclass(frozen=True, slots=True)
class Setup:
    studio: Studio
    workspace_id: uuid.UUID
    influencer: Influencer
    dataset: Dataset
    base_model: Path

    def request(self, preset: str = "sd15-fast-test", **overrides: object) -> TrainingRequest:
        values: dict[str, object] = {"base_model": str(self.base_model), "max_train_steps": 12,
                                     "save_every_n_steps": 4, "sample_every_n_steps": 6}
        values.update(overrides)
        return TrainingRequest(influencer_id=self.influencer.id, dataset_id=self.dataset.id,
                               preset=preset, overrides=values, sd_scripts=str(FAKE_SD_SCRIPTS))

    def job(self, job_id: uuid.UUID) -> Job:
        return self.studio.jobs.get(self.workspace_id, job_id)

    def run_next(self) -> None:
        run_next_task(self.studio, "training")


@pytest.fixture(autouse=True)
def no_gpu_here(monkeypatch: pytest.MonkeyPatch) -> None:
    """Plans ask nvidia-smi for the GPU's memory; tests decide what it says."""
    monkeypatch.setattr("studio.engine.training.plan.detect_vram_gb", lambda: 24.0)


def use_this_python(studio: Studio) -> None:
    """The fake sd-scripts needs numpy and safetensors, which this Python has; without the
    setting sd-scripts' Python would be python3 on PATH, as for a creator's own checkout."""
    studio.settings.sdscripts.python = sys.executable
    studio.save_settings()


@pytest.fixture
def setup(studio: Studio, tmp_path: Path) -> Iterator[Setup]:
    use_this_python(studio)
    workspace = studio.workspace()
    mia = create_influencer(studio, workspace.id, Persona(name="Mia", trigger_word="mia"))
    dataset = create_dataset(studio, workspace.id, mia.id, "Main", class_token="woman", repeats=2)
    import_paths(studio, dataset, make_images(tmp_path / "photos", 3))
    model = tmp_path / "models" / "sd15.safetensors"
    model.parent.mkdir()
    model.write_bytes((8).to_bytes(8, "little") + b"{}      ")  # safetensors with no tensors
    yield Setup(studio, workspace.id, mia, dataset, model)
