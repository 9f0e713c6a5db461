"""The Datasets page on a fresh dataset, and what its tests share: reading the stored images,
opening the page on them, running the queued jobs here as a worker would, a blurred picture."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageFilter

from studio.engine.core import Studio
from studio.engine.datasets.service import create_dataset, list_images
from studio.engine.db.models import DatasetImage
from studio.engine.influencers import Persona, create_influencer
from studio.engine.jobs.runner import JobRunner
from studio.ui import thumbnails
from studio.ui.context import StudioContext
from studio.ui.pages.datasets import DatasetsPage


@pytest.fixture(autouse=True)
def drain_loaders() -> Iterator[None]:
    yield
    thumbnails.wait_until_idle()


@pytest.fixture
def dataset(studio: Studio, context: StudioContext):
    influencer = create_influencer(studio, context.workspace_id, Persona(name="Mira", trigger_word="mira_v1"))
    return create_dataset(studio, context.workspace_id, influencer.id, "Portraits")


@pytest.fixture
def page(qtbot, context: StudioContext, dataset) -> Iterator[DatasetsPage]:
    widget = DatasetsPage(context)
    qtbot.addWidget(widget)
    widget.resize(1100, 700)
    widget.show()
    qtbot.waitUntil(lambda: widget.dataset is not None and widget.dataset.id == dataset.id)
    yield widget
    widget.editor.flush()


def images(studio: Studio, dataset) -> dict[str, DatasetImage]:
    return {i.original_name: i for i in list_images(studio, dataset)}


def open_with(qtbot, page: DatasetsPage, count: int) -> None:
    page.refresh(reset=True)
    qtbot.waitUntil(lambda: page.model.rowCount() == count)


def run_queued_jobs(studio: Studio) -> int:
    """Runs every task waiting on the studio's queues here, as a worker would."""
    studio.queues.set_runner(JobRunner(studio.db, studio.paths, studio.settings, "test"))
    ran = 0
    for huey in studio.queues.hueys.values():
        while (task := huey.dequeue()) is not None:
            huey.execute(task)
            ran += 1
    return ran


def blurred(path: Path) -> Path:
    noise = np.random.default_rng(7).integers(0, 255, (256, 256, 3), dtype=np.uint8)
    Image.fromarray(noise).filter(ImageFilter.GaussianBlur(8)).save(path, quality=92)
    return path
