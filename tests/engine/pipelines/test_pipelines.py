"""Pipelines from an approved post to its publish folder, with the fake ComfyUI and real FFmpeg.

The run-pipeline job runs on a thread as a worker would; its steps' jobs are run by the test
from their own queues, so each really goes through the queue it belongs to.
"""
from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import select

from studio.engine.core import Studio
from studio.engine.db.models import ContentPlan, Job, PlanItem
from studio.engine.db.repositories import Repository
from studio.engine.errors import InvalidInput
from studio.engine.influencers import Persona, create_influencer
from studio.engine.media.probe import probe
from studio.engine.pipelines.service import pipeline_status, submit_pipeline
from tests.conftest import run_next_task, wait_until
from tests.engine.media.conftest import ffmpeg, make_clip  # noqa: F401 - session fixture
from tests.fakes.comfyui_server import FakeComfyUI

SPECS = json.loads((Path(__file__).parents[1] / "media" / "object_info_video.json").read_text("utf-8"))


@pytest.fixture(autouse=True)
def own_gpu_lock(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("studio.engine.jobs.gpu.gpu_lock_path", lambda: tmp_path / "gpu.lock")
    monkeypatch.setattr("studio.engine.pipelines.run.POLL_S", 0.05)


@pytest.fixture
def fake(studio: Studio, ffmpeg: str, tmp_path_factory: pytest.TempPathFactory  # noqa: F811
         ) -> Iterator[FakeComfyUI]:
    clip = make_clip(ffmpeg, tmp_path_factory.mktemp("comfy") / "out.mp4", size="160x288",
                     seconds=2.0, audio=False)
    with FakeComfyUI(checkpoints=["sd15.safetensors", "svd_xt_1_1.safetensors"], node_specs=SPECS,
                     output_bytes={"mp4": clip.read_bytes()}) as server:
        studio.settings.comfyui.url = server.base_url
        studio.settings.pipeline.checkpoint = "sd15.safetensors"
        yield server


def make_item(studio: Studio, *, platform: str = "instagram", video_prompt: str = "",
              status: str = "approved", when: datetime | None = None) -> PlanItem:
    workspace = studio.workspace()
    mira = create_influencer(studio, workspace.id, Persona(name=f"Mira {uuid.uuid4().hex[:4]}",
                                                           trigger_word="mira_v1"))
    with studio.db.session() as session:
        repo = Repository(session, workspace.id)
        plan = repo.add(ContentPlan(influencer_id=mira.id, name="December", start_date=date(2026, 12, 1),
                                    end_date=date(2026, 12, 7)))
        return repo.add(PlanItem(
            plan_id=plan.id, scheduled_at=when or datetime(2026, 12, 1, 9, 30, tzinfo=UTC),
            platform=platform, topic="Sunset at the Miradouro", hook="Golden hour, no filter",
            caption="Lisbon keeps its best light for last.", hashtags=["lisbon", "#goldenhour"],
            image_prompt="mira_v1, portrait on a rooftop at sunset", video_prompt=video_prompt,
            subtitle_text="Lisbon keeps its best light for last." if video_prompt else "",
            status=status))


def child_jobs(studio: Studio, parent_id: uuid.UUID) -> list[Job]:
    with studio.db.session() as session:
        return list(session.scalars(select(Job).where(Job.parent_id == parent_id).order_by(Job.created_at)))


def jobs_of_type(studio: Studio, kind: str) -> list[Job]:
    with studio.db.session() as session:
        return list(session.scalars(select(Job).where(Job.type == kind)))


class PipelineThread:
    """The run-pipeline job on its own thread, as the pipeline queue's consumer runs it."""

    def __init__(self, studio: Studio) -> None:
        self.thread = threading.Thread(target=run_next_task, args=(studio, "pipeline"), daemon=True)
        self.thread.start()

    def join(self) -> None:
        self.thread.join(timeout=60)
        assert not self.thread.is_alive()


def run_step(studio: Studio, parent_id: uuid.UUID, kind: str, queue: str) -> Job:
    """Waits for the pipeline to queue its next step of ``kind``, then runs it from ``queue``."""
    step = wait_until(lambda: next((j for j in child_jobs(studio, parent_id)
                                    if j.type == kind and j.status == "pending"), None),
                      timeout=30, what=f"the {kind} step")
    run_next_task(studio, queue)
    done = studio.jobs.get(step.workspace_id, step.id)
    assert done.status in ("completed", "failed"), done.status
    return done


def test_a_still_post_goes_from_prompt_to_its_publish_folder(studio: Studio, fake: FakeComfyUI) -> None:
    item = make_item(studio)
    job = submit_pipeline(studio, item.workspace_id, item.id)
    assert job.queue == "pipeline"
    assert pipeline_status(studio, item.workspace_id, item.id).state == "running"
    runner = PipelineThread(studio)
    image = run_step(studio, job.id, "generate-image", "generation")
    runner.join()

    done = studio.jobs.get(item.workspace_id, job.id)
    assert done.status == "completed", done.error
    assert image.status == "completed" and image.payload["values"]["positive"].startswith("mira_v1")
    status = pipeline_status(studio, item.workspace_id, item.id)
    assert status.state == "ready" and [(s.name, s.status) for s in status.steps] == [
        ("image", "done"), ("export", "done"), ("publish", "done")]
    folder = status.folder
    assert folder is not None and folder.name == "2026-12-01_0930-instagram-sunset-at-the-miradouro"
    assert sorted(p.name for p in folder.iterdir()) == ["caption.txt", "post.jpg", "post.json"]
    assert Image.open(folder / "post.jpg").size == (1080, 1350)
    assert (folder / "caption.txt").read_text() == ("Lisbon keeps its best light for last.\n\n"
                                                     "#lisbon #goldenhour\n")
    post = json.loads((folder / "post.json").read_text())
    assert post["platform"] == "instagram" and post["files"] == {"media": "post.jpg"}
    assert post["jobs"]["image"] == str(image.id)
    with studio.db.session() as session:
        assert session.get(PlanItem, item.id).status == "ready"

    with pytest.raises(InvalidInput, match="already running"):
        other = make_item(studio)
        submit_pipeline(studio, other.workspace_id, other.id)
        submit_pipeline(studio, other.workspace_id, other.id)


def test_a_video_post_resumes_after_a_crash_without_redoing_finished_steps(
        studio: Studio, fake: FakeComfyUI, monkeypatch: pytest.MonkeyPatch) -> None:
    item = make_item(studio, platform="tiktok", video_prompt="hair moves in the wind")
    first = submit_pipeline(studio, item.workspace_id, item.id)
    from studio.engine.pipelines import run as pipeline_run
    real_wait = pipeline_run._wait_for

    def crash_on_video(ctx, job_id, name, progress):  # type: ignore[no-untyped-def]
        if name == "video":
            raise RuntimeError("the worker died")  # as if the process went away mid-step
        return real_wait(ctx, job_id, name, progress)

    monkeypatch.setattr(pipeline_run, "_wait_for", crash_on_video)
    runner = PipelineThread(studio)
    run_step(studio, first.id, "generate-image", "generation")
    runner.join()
    assert studio.jobs.get(item.workspace_id, first.id).status == "failed"
    status = pipeline_status(studio, item.workspace_id, item.id)
    assert status.state == "failed" and status.steps[0].status == "done"
    [video] = [j for j in child_jobs(studio, first.id) if j.type == "generate-video"]
    assert video.status == "pending"  # queued by the run that died

    monkeypatch.setattr(pipeline_run, "_wait_for", real_wait)
    again = submit_pipeline(studio, item.workspace_id, item.id)
    runner = PipelineThread(studio)
    wait_until(lambda: studio.jobs.get(item.workspace_id, again.id).status == "processing", timeout=20)
    run_next_task(studio, "video")  # the clip queued before the crash: picked up, not made again
    run_step(studio, again.id, "export-video", "video")
    runner.join()

    done = studio.jobs.get(item.workspace_id, again.id)
    assert done.status == "completed", done.error
    assert len(jobs_of_type(studio, "generate-image")) == 1
    assert len(jobs_of_type(studio, "generate-video")) == 1
    status = pipeline_status(studio, item.workspace_id, item.id)
    assert [(s.name, s.status) for s in status.steps] == [
        ("image", "done"), ("video", "done"), ("export", "done"), ("publish", "done")]
    folder = status.folder
    assert folder is not None
    assert sorted(p.name for p in folder.iterdir()) == ["caption.txt", "cover.jpg", "post.json", "post.mp4"]
    info = probe(folder / "post.mp4")
    assert info.video is not None and (info.video.width, info.video.height) == (1080, 1920)


def test_only_approved_posts_run(studio: Studio) -> None:
    item = make_item(studio, status="draft")
    with pytest.raises(InvalidInput, match="Only an approved post can be produced; this one is draft."):
        submit_pipeline(studio, item.workspace_id, item.id)


def test_cancel_stops_the_step_and_the_post_goes_back_to_approved(studio: Studio, fake: FakeComfyUI) -> None:
    item = make_item(studio)
    job = submit_pipeline(studio, item.workspace_id, item.id)
    runner = PipelineThread(studio)
    step = wait_until(lambda: next(iter(child_jobs(studio, job.id)), None), timeout=20, what="the step")
    studio.jobs.cancel(item.workspace_id, job.id)
    runner.join()
    assert studio.jobs.get(item.workspace_id, job.id).status == "canceled"
    assert studio.jobs.get(item.workspace_id, step.id).status == "canceled"
    with studio.db.session() as session:
        assert session.get(PlanItem, item.id).status == "approved"
