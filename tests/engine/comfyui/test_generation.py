"""generate-image jobs end to end: submit checks against FakeComfyUI, the real runner runs them."""
from __future__ import annotations

import hashlib
import threading
from pathlib import Path

import pytest
from PIL import Image

from studio.engine.comfyui.generation import ComfyNotAnswering, is_local
from studio.engine.core import Studio
from studio.engine.db.models import Asset, Influencer, Job
from studio.engine.errors import InvalidInput
from studio.engine.jobs.context import JobContext
from studio.engine.jobs.gpu import current_holders, hold_gpu
from tests.conftest import wait_until
from tests.engine.comfyui.helpers import reload, run_next, submit
from tests.engine.jobs.helpers import job_context
from tests.fakes.comfyui_server import FakeComfyUI

Progress = list[tuple[float, str | None, str]]


@pytest.fixture
def progress_seen(monkeypatch: pytest.MonkeyPatch) -> Progress:
    seen: Progress = []
    original = JobContext.progress

    def spy(self: JobContext, fraction: float, *, stage: str | None = None, message: str = "") -> None:
        seen.append((fraction, stage, message))
        original(self, fraction, stage=stage, message=message)
    monkeypatch.setattr(JobContext, "progress", spy)
    return seen


def assets_of(studio: Studio, job: Job) -> list[Asset]:
    with studio.db.session() as session:
        return list(session.query(Asset).filter_by(job_id=job.id).order_by(Asset.storage_key))


def test_a_job_stores_every_image_with_its_recipe(studio: Studio, fake: FakeComfyUI, mia: Influencer,
                                                  progress_seen: Progress) -> None:
    fake.script(previews=True)
    [job] = submit(studio, influencer=mia, batch_size=2, seed=1234, lora_strength=0.7)
    assert job.queue == "generation" and job.type == "generate-image"
    assert job.title == "Mia: photo of mia on a beach (seed 1234)"
    run_next(studio)
    done = reload(studio, job)
    assert done.status == "completed", done.error
    assert done.progress == 1.0 and done.result["seed"] == 1234
    assets = assets_of(studio, job)
    assert done.result["assets"] == [str(a.id) for a in sorted(assets, key=lambda a: a.storage_key)]
    assert done.result["prompt_id"] in fake.history
    assert len(assets) == 2
    for asset in assets:
        path = studio.asset_path(asset.storage_key)
        data = path.read_bytes()
        assert asset.storage_key.startswith(f"images/{job.workspace_id}/{job.id}/txt2img_0000")
        assert (asset.kind, asset.influencer_id, asset.job_id) == ("image", mia.id, job.id)
        assert asset.sha256 == hashlib.sha256(data).hexdigest() and asset.size_bytes == len(data)
        assert (asset.meta["width"], asset.meta["height"]) == Image.open(path).size == (8, 8)
        assert (asset.meta["rating"], asset.meta["favourite"]) == (0, False)
        recipe = asset.meta["recipe"]
        assert {"template", "graph", "values", "seed", "checkpoint", "lora", "lora_strength",
                "comfyui_version", "prompt_id", "timings"} <= set(recipe)
        assert (recipe["template"], recipe["seed"], recipe["checkpoint"], recipe["lora"]) == (
            "txt2img-sd15-lora", 1234, "sd15.safetensors", "mia_v1.safetensors")
        assert recipe["lora_strength"] == 0.7 and recipe["comfyui_version"] == "0.3.64"
        assert recipe["prompt_id"] == done.result["prompt_id"]
        assert recipe["values"]["steps"] == 4 and recipe["values"]["batch_size"] == 2
        assert recipe["graph"] == fake.requests("POST", "/prompt")[0].body["prompt"]
        assert recipe["timings"]["total"] > 0
    stages = [stage for _, stage, _ in progress_seen]
    assert "KSampler" in stages and "Saving" in stages
    assert ("step 4/4" in [message for _, _, message in progress_seen])
    fractions = [f for f, _, _ in progress_seen]
    assert fractions == sorted(fractions)  # never goes backwards
    # The preview was for the running job; its images replace it.
    assert not (studio.paths.cache_dir / "previews" / f"{job.id}.jpg").exists()


def test_missing_lora_is_refused_at_submit_in_one_sentence(studio: Studio, fake: FakeComfyUI) -> None:
    with pytest.raises(InvalidInput) as refused:
        submit(studio, lora_name="mia_v2.safetensors")
    assert str(refused.value) == ("The LoRA 'mia_v2.safetensors' is not in ComfyUI's loras folder; "
                                  "it has: mia_v1.safetensors.")
    assert studio.jobs.list(studio.workspace().id) == []
    assert fake.requests("POST", "/prompt") == []


def test_comfyui_down_at_submit_queues_nothing(studio: Studio) -> None:
    with FakeComfyUI() as gone:
        url = gone.base_url
    studio.settings.comfyui.url = url
    with pytest.raises(ComfyNotAnswering) as refused:
        submit(studio)
    assert str(refused.value) == f"ComfyUI does not answer at {url}: start it or set comfyui.url."
    assert studio.jobs.list(studio.workspace().id) == []


def test_count_gives_one_job_per_image_with_its_own_seed(studio: Studio, fake: FakeComfyUI) -> None:
    locked = submit(studio, count=3, seed=100)
    assert [j.payload["values"]["seed"] for j in locked] == [100, 101, 102]
    random = submit(studio, count=3, seed=-1)
    seeds = [j.payload["values"]["seed"] for j in random]
    assert len(set(seeds)) == 3 and all(isinstance(s, int) and s >= 0 for s in seeds)
    assert len(fake.requests("GET", "/object_info")) == 1  # once per server start, not per job
    assert studio.queues.hueys["generation"].pending_count() == 6


def test_an_execution_error_fails_at_once_naming_the_node(studio: Studio, fake: FakeComfyUI) -> None:
    fake.script(fail_at="3", exception_message="CUDA out of memory")
    [job] = submit(studio)
    run_next(studio)
    done = reload(studio, job)
    assert (done.status, done.attempts) == ("failed", 1)
    assert done.error == ("KSampler (node 3) failed: RuntimeError: CUDA out of memory")
    assert studio.queues.hueys["generation"].scheduled_count() == 0
    assert assets_of(studio, job) == []


def test_comfyui_down_at_run_time_leaves_the_job_pending_for_a_retry(studio: Studio,
                                                                    fake: FakeComfyUI) -> None:
    [job] = submit(studio)
    fake.close()
    run_next(studio)
    waiting = reload(studio, job)
    assert waiting.status == "pending" and waiting.next_attempt_at is not None
    assert "cannot be reached" in waiting.error and waiting.message.startswith("Will retry in 5 s")
    assert studio.queues.hueys["generation"].scheduled_count() == 1


def test_cancel_interrupts_the_running_prompt(studio: Studio, fake: FakeComfyUI) -> None:
    fake.script(previews=True, hold_at="3")
    [job] = submit(studio)
    runner = threading.Thread(target=run_next, args=(studio,))
    runner.start()
    preview = studio.paths.cache_dir / "previews" / f"{job.id}.jpg"
    wait_until(preview.exists, timeout=10, what="the first preview frame")
    assert preview.read_bytes().startswith(b"\x89PNG")  # the frame as ComfyUI sent it
    assert reload(studio, job).stage == "KSampler"
    studio.jobs.cancel(job.workspace_id, job.id)
    runner.join(timeout=10)
    done = reload(studio, job)
    assert done.status == "canceled" and "interrupted" in done.message
    [prompt_id] = list(fake.history)
    assert fake.requests("POST", "/interrupt")[0].body == {"prompt_id": prompt_id}
    assert assets_of(studio, job) == []


def test_img2img_uploads_the_input_image_and_keeps_its_key(studio: Studio, fake: FakeComfyUI,
                                                          tmp_path: Path) -> None:
    source = tmp_path / "me.png"
    Image.new("RGB", (16, 16), (10, 200, 30)).save(source)
    [job] = submit(studio, "img2img-sd15-lora", input_image=str(source), denoise=0.5)
    key = job.payload["images"]["input_image"]  # a picture from outside, copied into the store
    assert key.startswith(f"inputs/{job.workspace_id}/") and key.endswith("/me.png")
    assert "input_image" not in job.payload["values"]
    source.unlink()  # the job reads the studio's copy
    run_next(studio)
    assert reload(studio, job).status == "completed", reload(studio, job).error
    upload = fake.requests("POST", "/upload/image")[0].body
    sent = fake.requests("POST", "/prompt")[0].body["prompt"]
    assert sent["11"]["inputs"]["image"].startswith("studio-") and upload["overwrite"] == "true"
    assert sent["3"]["inputs"]["denoise"] == 0.5
    [asset] = assets_of(studio, job)
    assert asset.meta["recipe"]["values"]["input_image"] == key  # Regenerate submits the key
    [again] = submit(studio, "img2img-sd15-lora", input_image=key, denoise=0.5)
    assert again.payload["images"] == {"input_image": key}
    assert asset.meta["recipe"]["graph"]["11"]["inputs"]["image"] == sent["11"]["inputs"]["image"]


def test_a_missing_input_image_is_refused_at_submit(studio: Studio, fake: FakeComfyUI,
                                                    tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="^Input image '.*nope.png' is not a file here nor an image"):
        submit(studio, "img2img-sd15-lora", input_image=str(tmp_path / "nope.png"))
    # A name ComfyUI already has in its input folder is used as it is.
    [job] = submit(studio, "img2img-sd15-lora", input_image="example.png")
    run_next(studio)
    assert reload(studio, job).status == "completed"
    assert fake.requests("POST", "/upload/image") == []


def test_unknown_template_and_count_are_refused(studio: Studio, fake: FakeComfyUI) -> None:
    with pytest.raises(InvalidInput, match="no workflow template 'nope'; there are: controlnet"):
        submit(studio, "nope")
    with pytest.raises(InvalidInput, match="from 1 to 100, not 0"):
        submit(studio, count=0)


# Addresses only, read by is_local; nothing is connected to.
@pytest.mark.parametrize(("url", "local"), [("http://127.0.0.1", True),
                                            ("http://localhost/", True),
                                            ("http://[::1]", True),
                                            ("http://gpu-box.lan", False)])
def test_only_a_comfyui_on_this_machine_takes_the_gpu_lock(url: str, local: bool) -> None:
    assert is_local(url) is local


def test_a_local_comfyui_waits_for_a_training_and_says_so(studio: Studio, fake: FakeComfyUI) -> None:
    [job] = submit(studio)
    with hold_gpu(job_context(studio, "train-lora", "mia-v3")):  # a training on this machine
        runner = threading.Thread(target=run_next, args=(studio,))
        runner.start()
        wait_until(lambda: reload(studio, job).message
                   == "Waiting for the GPU: training 'mia-v3' holds it", timeout=10,
                   what="the job to say the training holds the GPU")
        assert reload(studio, job).stage == "Waiting for the GPU"
        assert fake.requests("POST", "/prompt") == []
    runner.join(timeout=10)
    assert reload(studio, job).status == "completed"


def test_cancel_while_waiting_for_the_gpu_ends_the_job(studio: Studio, fake: FakeComfyUI) -> None:
    [job] = submit(studio)
    with hold_gpu(job_context(studio, "train-lora", "mia-v3")):
        runner = threading.Thread(target=run_next, args=(studio,))
        runner.start()
        wait_until(lambda: reload(studio, job).stage == "Waiting for the GPU", timeout=10,
                   what="the job to wait for the GPU")
        studio.jobs.cancel(job.workspace_id, job.id)
        runner.join(timeout=10)
        done = reload(studio, job)
        assert (done.status, done.message) == ("canceled", "Canceled while waiting for the GPU.")
        assert [h.title for h in current_holders()] == ["mia-v3"]  # it never held the GPU
    assert fake.requests("POST", "/prompt") == [] and fake.requests("POST", "/upload/image") == []


def test_two_local_jobs_share_one_hold_and_training_waits(studio: Studio, fake: FakeComfyUI) -> None:
    fake.script(hold_at="3")  # the first prompt runs until released
    jobs = submit(studio, count=2, seed=5)
    runners = [threading.Thread(target=run_next, args=(studio,)) for _ in jobs]
    runners[0].start()
    wait_until(lambda: len(fake.requests("POST", "/prompt")) == 1, timeout=10, what="one prompt")
    runners[1].start()  # joins the hold at once: its prompt waits in ComfyUI's queue, not here
    wait_until(lambda: len(fake.requests("POST", "/prompt")) == 2, timeout=10, what="two prompts")
    assert sorted(h.title for h in current_holders()) == sorted(j.title for j in jobs)
    training = job_context(studio, "train-lora", "mia-v3")
    done_when_trained: list[int] = []

    def train() -> None:
        with hold_gpu(training):
            done_when_trained.append(sum(e["status"]["completed"] for e in fake.history.values()))
    trainer = threading.Thread(target=train)
    trainer.start()
    wait_until(lambda: studio.jobs.get(training.workspace_id, training.job_id).stage
               == "Waiting for the GPU", timeout=10, what="the training to wait")
    assert studio.jobs.get(training.workspace_id, training.job_id).message.startswith(
        "Waiting for the GPU: image generation '")
    fake.release()
    for thread in [*runners, trainer]:
        thread.join(timeout=10)
    assert [reload(studio, j).status for j in jobs] == ["completed", "completed"]
    assert done_when_trained == [2] and current_holders() == []  # never both at once


def test_a_comfyui_on_another_host_takes_no_gpu(studio: Studio, fake: FakeComfyUI,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("studio.engine.comfyui.job.LOCAL_HOSTS", ())  # the fake counts as remote
    [job] = submit(studio)
    with hold_gpu(job_context(studio, "train-lora", "mia-v3")):  # this machine's GPU is busy
        run_next(studio)
        assert reload(studio, job).status == "completed"
        assert [h.title for h in current_holders()] == ["mia-v3"]
