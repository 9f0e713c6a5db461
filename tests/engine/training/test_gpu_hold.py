"""A training through the real runner takes the one GPU hold: it waits for ComfyUI jobs holding
it, says so, and asks a ComfyUI on this machine to free its memory once it has the GPU."""
from __future__ import annotations

import threading
from pathlib import Path

from studio.engine.jobs.gpu import current_holders, hold_gpu
from studio.engine.training.command import TrainingFiles
from studio.engine.training.jobs import submit_training
from tests.conftest import wait_until
from tests.engine.jobs.helpers import job_context
from tests.engine.training.helpers import Setup
from tests.fakes.comfyui_server import FakeComfyUI


def test_training_waits_for_local_generations_then_frees_comfyui(setup: Setup) -> None:
    studio = setup.studio
    with FakeComfyUI() as comfy:
        studio.settings.comfyui.url = comfy.base_url
        job = submit_training(studio, setup.workspace_id, setup.request())
        with hold_gpu(job_context(studio, "generate-image", "Mia on a beach"), shared=True):
            runner = threading.Thread(target=setup.run_next)
            runner.start()
            wait_until(lambda: setup.job(job.id).message
                       == "Waiting for the GPU: image generation 'Mia on a beach' holds it",
                       timeout=10, what="the training to name the generation")
            assert setup.job(job.id).stage == "Waiting for the GPU"
            assert comfy.requests("POST", "/free") == []  # ComfyUI's models stay while it works
        runner.join(timeout=60)
        assert setup.job(job.id).status == "completed", setup.job(job.id).error
        assert [r.body for r in comfy.requests("POST", "/free")] == [
            {"unload_models": True, "free_memory": True}]
    assert current_holders() == []


def test_cancel_of_a_training_waiting_for_the_gpu(setup: Setup) -> None:
    studio = setup.studio
    job = submit_training(studio, setup.workspace_id, setup.request())
    with hold_gpu(job_context(studio, "train-lora", "mia-v3")):
        runner = threading.Thread(target=setup.run_next)
        runner.start()
        wait_until(lambda: setup.job(job.id).message
                   == "Waiting for the GPU: training 'mia-v3' holds it", timeout=10,
                   what="the second training to wait")
        studio.jobs.cancel(setup.workspace_id, job.id)
        runner.join(timeout=10)
        done = setup.job(job.id)
        assert (done.status, done.message) == ("canceled", "Canceled while waiting for the GPU.")
        output = TrainingFiles(Path(done.payload["root"])).output_dir
        assert not output.exists() or not any(output.iterdir())  # sd-scripts never started
