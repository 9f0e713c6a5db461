"""Pipelines from an approved post to its publish folder, with the fake ComfyUI and real FFmpeg.

The run-pipeline job runs on a thread as a worker would; its steps' jobs are run by the test
from their own queues, so each really goes through the queue it belongs to.
"""
from __future__ import annotations

import json

import pytest
from PIL import Image

from studio.engine.core import Studio
from studio.engine.db.models import PlanItem
from studio.engine.errors import InvalidInput
from studio.engine.media.probe import probe
from studio.engine.pipelines.service import pipeline_status, submit_pipeline
from tests.conftest import run_next_task, wait_until
from tests.engine.pipelines.helpers import PipelineThread, child_jobs, jobs_of_type, make_item, run_step
from tests.fakes.comfyui_server import FakeComfyUI


def test_a_still_post_goes_from_prompt_to_its_publish_folder(studio: Studio, pipeline_comfy: FakeComfyUI) -> None:
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
        studio: Studio, pipeline_comfy: FakeComfyUI, monkeypatch: pytest.MonkeyPatch) -> None:
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


def test_cancel_stops_the_step_and_the_post_goes_back_to_approved(studio: Studio, pipeline_comfy: FakeComfyUI) -> None:
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
