"""The one GPU hold: exclusive for training, shared by ComfyUI jobs, visible and cancelable."""
from __future__ import annotations

import threading
from pathlib import Path

import pytest
from filelock import FileLock, Timeout
from sqlalchemy import update

from studio.engine.core import Studio
from studio.engine.db.models import Job
from studio.engine.jobs.context import JobContext
from studio.engine.jobs.errors import JobCanceled
from studio.engine.jobs.gpu import GpuHolder, current_holders, gpu_lock_path, hold_gpu, waiting_message
from tests.conftest import wait_until
from tests.engine.jobs.helpers import job_context


def row(studio: Studio, ctx: JobContext) -> Job:
    return studio.jobs.get(ctx.workspace_id, ctx.job_id)


def gpu_is_free() -> bool:
    """Whether another process could take the lock now."""
    probe = FileLock(str(gpu_lock_path()), thread_local=False, is_singleton=False)
    try:
        probe.acquire(timeout=0)
    except Timeout:
        return False
    probe.release()
    return True


def test_the_lock_is_where_the_environment_says(gpu_lock_file: Path) -> None:
    assert gpu_lock_path() == gpu_lock_file


def test_a_waiting_job_says_who_holds_the_gpu(studio: Studio) -> None:
    training = job_context(studio, "train-lora", "mia-v3")
    image = job_context(studio, "generate-image", "Mia: on a beach")
    got_it = threading.Event()

    def generate() -> None:
        with hold_gpu(image, shared=True):
            got_it.set()

    with hold_gpu(training):
        assert current_holders() == [GpuHolder(str(training.job_id), "train-lora", "mia-v3")]
        waiter = threading.Thread(target=generate)
        waiter.start()
        wait_until(lambda: row(studio, image).message
                   == "Waiting for the GPU: training 'mia-v3' holds it", timeout=10,
                   what="the waiting job to name the training")
        assert row(studio, image).stage == "Waiting for the GPU" and not got_it.is_set()
    waiter.join(10)
    assert got_it.is_set() and gpu_is_free() and current_holders() == []


def test_cancel_while_waiting_ends_the_wait_without_the_gpu(studio: Studio) -> None:
    training = job_context(studio, "train-lora", "mia-v3")
    video = job_context(studio, "generate-video", "Video from mia.png")
    outcome: list[BaseException] = []

    def generate() -> None:
        try:
            with hold_gpu(video, shared=True):
                outcome.append(AssertionError("took the GPU"))
        except JobCanceled as exc:
            outcome.append(exc)

    with hold_gpu(training):
        waiter = threading.Thread(target=generate)
        waiter.start()
        wait_until(lambda: row(studio, video).stage == "Waiting for the GPU", timeout=10,
                   what="the job to wait")
        with studio.db.session() as session:
            session.execute(update(Job).where(Job.id == video.job_id).values(cancel_requested=True))
        waiter.join(10)
        [canceled] = outcome
        assert isinstance(canceled, JobCanceled) and str(canceled) == "Canceled while waiting for the GPU."
        assert [h.title for h in current_holders()] == ["mia-v3"]  # the training still holds it
    assert gpu_is_free()


def test_comfyui_jobs_share_one_hold_and_training_waits_for_the_last(studio: Studio) -> None:
    first = job_context(studio, "generate-image", "one")
    second = job_context(studio, "generate-image", "two")
    training = job_context(studio, "train-lora", "mia-v3")
    trained = threading.Event()

    def train() -> None:
        with hold_gpu(training):
            trained.set()

    with hold_gpu(first, shared=True):
        with hold_gpu(second, shared=True):  # joins at once: ComfyUI's queue stays full
            assert [h.title for h in current_holders()] == ["one", "two"]
            assert not gpu_is_free()
            trainer = threading.Thread(target=train)
            trainer.start()
            wait_until(lambda: row(studio, training).message == (
                "Waiting for the GPU: image generation 'one' (and 1 more) holds it"),
                timeout=10, what="the training to wait")
        assert [h.title for h in current_holders()] == ["one"] and not trained.is_set()
    trainer.join(10)
    assert trained.is_set() and gpu_is_free()


@pytest.mark.parametrize(("holders", "message"), [
    ([], "Waiting for the GPU: another job holds it"),
    ([GpuHolder("1", "train-lora", "mia-v3")], "Waiting for the GPU: training 'mia-v3' holds it"),
    ([GpuHolder("1", "generate-video", "clip"), GpuHolder("2", "generate-image", "x")],
     "Waiting for the GPU: video generation 'clip' (and 1 more) holds it"),
    ([GpuHolder("1", "some-new-type", "x")], "Waiting for the GPU: some-new-type 'x' holds it")])
def test_the_waiting_message(holders: list[GpuHolder], message: str) -> None:
    assert waiting_message(holders) == message


def test_a_damaged_holder_file_reads_as_nobody(gpu_lock_file: Path) -> None:
    (gpu_lock_file.parent / "gpu-holder.json").write_text("{not json", encoding="utf-8")
    assert current_holders() == []
