"""The test grid through the fake ComfyUI: cells as generate-image jobs, a labelled contact sheet."""
from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from PIL import Image

from studio.engine.db.models import Asset
from studio.engine.errors import InvalidInput
from studio.engine.training.grid import (
    CELL,
    HEADER_H,
    LABEL_W,
    TITLE_H,
    GridRequest,
    _grid_template,
    submit_test_grid,
)
from studio.engine.training.jobs import submit_training
from studio.engine.training.results import checkpoints_of
from tests.conftest import run_next_task
from tests.engine.training.helpers import Setup
from tests.fakes.comfyui_server import FakeComfyUI


def test_a_grid_compares_checkpoints_and_strengths_with_fixed_seeds(setup: Setup, tmp_path: Path) -> None:
    studio, ws = setup.studio, setup.workspace_id
    training = submit_training(studio, ws, setup.request())
    setup.run_next()
    loras = tmp_path / "ComfyUI" / "models" / "loras"
    with FakeComfyUI(loras_dir=loras) as comfy:
        studio.settings.comfyui.url = comfy.base_url
        studio.settings.comfyui.loras_dir = str(loras)
        grid = submit_test_grid(studio, ws, GridRequest(training_job_id=training.id,
                                                        prompts=("{trigger} on a beach",),
                                                        strengths=(0.5, 1.0), seed=77, steps=4))
        # Four saved, but step 12 holds the final's weights (sd-scripts saves both): three rows.
        assert len(checkpoints_of(studio.db, ws, job_id=training.id)) == 4
        assert len(grid.generation_jobs) == 3 * 2  # three checkpoints × two strengths
        assert sorted(p.name for p in loras.iterdir()) == [  # handed to ComfyUI's folder
            "mia-main-v1-step00000004.safetensors", "mia-main-v1-step00000008.safetensors",
            "mia-main-v1.safetensors"]
        for _ in grid.generation_jobs:
            run_next_task(studio, "generation")
        run_next_task(studio, "general")
        graphs = [r.body["prompt"] for r in comfy.requests("POST", "/prompt")]
    sheet = studio.jobs.get(ws, grid.sheet_job.id)
    assert sheet.status == "completed", sheet.error
    assert sheet.result["missing"] == 0 and sheet.result["cells"] == 6
    seeds = {g["3"]["inputs"]["seed"] for g in graphs}
    assert seeds == {77}  # one prompt: one fixed seed in every cell
    assert {(g["10"]["inputs"]["lora_name"], g["10"]["inputs"]["strength_model"]) for g in graphs} == {
        (name, s) for name in ("mia-main-v1-step00000004.safetensors", "mia-main-v1-step00000008.safetensors",
                               "mia-main-v1.safetensors") for s in (0.5, 1.0)}
    assert all(g["6"]["inputs"]["text"] == "mia on a beach" for g in graphs)
    with studio.db.session() as session:
        asset = session.get(Asset, uuid.UUID(sheet.result["asset"]))
        assert asset is not None and asset.kind == "contact-sheet"
        assert asset.meta["grid"]["rows"] == ["step 4", "step 8", "final (step 12)"]
    with Image.open(setup.studio.asset_path(sheet.result["key"])) as image:
        assert image.size == (LABEL_W + 2 * CELL, TITLE_H + HEADER_H + 3 * CELL)


def test_a_grid_too_large_or_without_checkpoints_is_refused(setup: Setup) -> None:
    studio, ws = setup.studio, setup.workspace_id
    training = submit_training(studio, ws, setup.request())
    with pytest.raises(InvalidInput, match="no checkpoints yet"):
        submit_test_grid(studio, ws, GridRequest(training_job_id=training.id))
    setup.run_next()
    with pytest.raises(InvalidInput, match="too large"):
        submit_test_grid(studio, ws, GridRequest(training_job_id=training.id, prompts=("a",) * 20,
                                                 strengths=(0.2, 0.4, 0.6, 0.8, 1.0, 1.2)))


def _only_the_training_is_queued(setup: Setup, training_id: uuid.UUID) -> None:
    studio = setup.studio
    assert [job.id for job in studio.jobs.list(setup.workspace_id)] == [training_id]
    assert studio.queues.hueys["generation"].pending_count() == 0
    assert studio.queues.hueys["general"].pending_count() == 0


def test_a_grid_refused_at_its_last_cell_queues_no_job(setup: Setup, tmp_path: Path) -> None:
    studio, ws = setup.studio, setup.workspace_id
    training = submit_training(studio, ws, setup.request())
    setup.run_next()
    final = next(lora for lora in checkpoints_of(studio.db, ws, job_id=training.id) if lora.meta.get("final"))
    loras = tmp_path / "ComfyUI" / "models" / "loras"
    with FakeComfyUI(loras_dir=loras) as comfy:
        studio.settings.comfyui.url = comfy.base_url
        studio.settings.comfyui.loras_dir = str(loras)
        with pytest.raises(InvalidInput, match="150"):  # ComfyUI's LoraLoader takes -100 to 100
            submit_test_grid(studio, ws, GridRequest(training_job_id=training.id, lora_ids=(final.id,),
                                                     prompts=("a",), strengths=(0.5, 150.0)))
        assert comfy.requests("POST", "/prompt") == []
    _only_the_training_is_queued(setup, training.id)


def test_a_grid_whose_last_checkpoint_cannot_reach_comfyui_queues_no_job(setup: Setup, tmp_path: Path) -> None:
    studio, ws = setup.studio, setup.workspace_id
    training = submit_training(studio, ws, setup.request())
    setup.run_next()
    final = next(lora for lora in checkpoints_of(studio.db, ws, job_id=training.id) if lora.meta.get("final"))
    studio.asset_path(final.storage_key).unlink()  # the last row's file is gone
    loras = tmp_path / "ComfyUI" / "models" / "loras"
    with FakeComfyUI(loras_dir=loras) as comfy:
        studio.settings.comfyui.url = comfy.base_url
        studio.settings.comfyui.loras_dir = str(loras)
        with pytest.raises(InvalidInput, match="mia-main-v1.safetensors' is in the library but its file is missing"):
            submit_test_grid(studio, ws, GridRequest(training_job_id=training.id, prompts=("a",)))
    _only_the_training_is_queued(setup, training.id)


def test_a_grid_with_only_blank_prompts_or_no_comfyui_is_refused_before_anything(setup: Setup) -> None:
    studio, ws = setup.studio, setup.workspace_id
    training = submit_training(studio, ws, setup.request())
    setup.run_next()
    with pytest.raises(InvalidInput, match="at least one prompt"):
        submit_test_grid(studio, ws, GridRequest(training_job_id=training.id, prompts=("  ",)))
    with FakeComfyUI() as comfy:
        url = comfy.base_url
    studio.settings.comfyui.url = url  # a port nothing answers on any more
    with pytest.raises(InvalidInput, match="ComfyUI does not answer"):
        submit_test_grid(studio, ws, GridRequest(training_job_id=training.id, prompts=("a",)))
    _only_the_training_is_queued(setup, training.id)


@pytest.mark.parametrize(("family", "template"), [("sd15", "txt2img-sd15-lora"), ("flux1", "txt2img-flux1-lora"),
                                                  ("qwen_image", "txt2img-qwen-image-lora")])
def test_a_grid_uses_a_text_to_image_workflow_of_the_training_s_family(setup: Setup, family: str,
                                                                       template: str) -> None:
    assert _grid_template(setup.studio, family) == template


def test_a_family_without_a_text_to_image_workflow_is_said_plainly(setup: Setup) -> None:
    with pytest.raises(InvalidInput, match="^A test grid needs a text-to-image workflow for Wan 2.2 14B LoRAs"):
        _grid_template(setup.studio, "wan22_14b")
