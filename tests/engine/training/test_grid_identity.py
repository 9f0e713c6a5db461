"""The test grid carries her identity score per cell: under each picture, and in the sheet's meta."""
from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from PIL import Image

from studio.engine.db.models import Asset
from studio.engine.training.grid import GridRequest, score_label, submit_test_grid
from studio.engine.training.jobs import submit_training
from tests.conftest import run_next_task
from tests.engine.comfyui.identity_helpers import png_of, set_references
from tests.engine.training.helpers import Setup
from tests.fakes.comfyui_server import FakeComfyUI


def by_strength(graph: dict[str, Any]) -> bytes:
    """Strength 1.0 makes her; 0.5 someone else (the pictures the checkpoints would draw)."""
    [strength] = [n["inputs"]["strength_model"] for n in graph.values() if n["class_type"] == "LoraLoader"]
    return png_of("astronaut" if strength == 1.0 else "hopper")


def test_each_cell_shows_and_keeps_her_score(setup: Setup, tmp_path: Path) -> None:
    studio, ws = setup.studio, setup.workspace_id
    set_references(studio, setup.influencer, "astronaut")
    training = submit_training(studio, ws, setup.request())
    setup.run_next()
    loras = tmp_path / "ComfyUI" / "models" / "loras"
    with FakeComfyUI(loras_dir=loras) as comfy:
        studio.settings.comfyui.url = comfy.base_url
        studio.settings.comfyui.loras_dir = str(loras)
        comfy.picture_for = by_strength
        grid = submit_test_grid(studio, ws, GridRequest(training_job_id=training.id, prompts=("{trigger}",),
                                                        strengths=(0.5, 1.0), seed=7, steps=4))
        for _ in grid.generation_jobs:
            run_next_task(studio, "generation")
        run_next_task(studio, "general")
    sheet = studio.jobs.get(ws, grid.sheet_job.id)
    assert sheet.status == "completed", sheet.error
    with studio.db.session() as session:
        asset = session.get(Asset, uuid.UUID(sheet.result["asset"]))
        assert asset is not None
        cells = asset.meta["cell_identity"]
    assert len(cells) == 6 and {c["job_id"] for c in cells} == {str(j) for j in grid.generation_jobs}
    for cell in cells:
        assert cell["faces"] == 1
        if cell["column"] == 1:  # strength 1.0
            assert cell["score"] >= 0.5
        else:
            assert cell["score"] < 0.5
    with Image.open(studio.asset_path(sheet.result["key"])) as image:
        image.convert("RGB").save(tmp_path / "sheet.png")  # drawn with the scores without failing


def test_a_cell_label_says_the_score_and_marks_what_is_not_her() -> None:
    assert score_label({"score": 0.812, "faces": 1}) == ("identity 0.81", False)
    assert score_label({"score": 0.41, "faces": 1}) == ("identity 0.41", True)
    assert score_label({"score": None, "faces": 0, "note": "no face found"}) == ("identity: no face", True)
    assert score_label({"score": None, "faces": None, "note": "no reference faces of her yet"}) == ("", False)
    assert score_label({}) == ("", False)
