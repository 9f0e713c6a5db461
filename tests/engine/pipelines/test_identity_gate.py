"""A post's picture must look like her: the image step makes another picture with a new seed
until one scores pipeline.min_identity, and stops after pipeline.identity_retries."""
from __future__ import annotations

from studio.engine.core import Studio
from studio.engine.db.models import ContentPlan, Influencer, Job, PlanItem
from studio.engine.pipelines.identity_gate import Gate, Try, cannot_judge, refusal
from studio.engine.pipelines.service import pipeline_status, submit_pipeline
from tests.engine.comfyui.identity_helpers import by_order, set_references
from tests.engine.pipelines.helpers import PipelineThread, jobs_of_type, make_item, run_step
from tests.fakes.comfyui_server import FakeComfyUI


def her_post(studio: Studio, *, references: bool = True) -> tuple[PlanItem, Influencer]:
    studio.settings.pipeline.min_identity = 0.5
    studio.settings.pipeline.identity_retries = 3
    item = make_item(studio)
    with studio.db.session() as session:
        plan = session.get(ContentPlan, item.plan_id)
        assert plan is not None
        influencer = session.get(Influencer, plan.influencer_id)
        assert influencer is not None
    if references:
        set_references(studio, influencer, "astronaut")
    return item, influencer


def produce(studio: Studio, item: PlanItem, pictures: int) -> Job:
    job = submit_pipeline(studio, item.workspace_id, item.id)
    runner = PipelineThread(studio)
    for _ in range(pictures):
        run_step(studio, job.id, "generate-image", "generation")
    runner.join()
    return studio.jobs.get(item.workspace_id, job.id)


def test_a_picture_of_someone_else_is_made_again_until_one_looks_like_her(
        studio: Studio, pipeline_comfy: FakeComfyUI) -> None:
    item, _ = her_post(studio)
    pipeline_comfy.picture_for = by_order(["hopper", "astronaut"])
    done = produce(studio, item, pictures=2)

    assert done.status == "completed", done.error
    images = sorted(jobs_of_type(studio, "generate-image"), key=lambda j: j.created_at)
    assert len(images) == 2 and images[0].payload["values"]["seed"] != images[1].payload["values"]["seed"]
    with studio.db.session() as session:
        state = session.get(PlanItem, item.id).pipeline  # type: ignore[union-attr]
    step = state["image"]
    assert step["job_id"] == str(images[1].id) and step["done"] is True
    assert [t["job_id"] for t in step["tries"]] == [str(i.id) for i in images]
    assert step["tries"][0]["score"] < 0.5 <= step["tries"][1]["score"]
    assert pipeline_status(studio, item.workspace_id, item.id).state == "ready"


def test_after_the_last_try_the_post_stops_in_one_line_keeping_the_best_picture(
        studio: Studio, pipeline_comfy: FakeComfyUI) -> None:
    item, mira = her_post(studio)
    pipeline_comfy.picture_for = by_order(["luis", "hopper", "luis"])
    done = produce(studio, item, pictures=3)

    assert done.status == "failed"
    with studio.db.session() as session:
        saved = session.get(PlanItem, item.id)
        assert saved is not None
        state, status = saved.pipeline, saved.status
    tries = state["image"]["tries"]
    best = max(t["score"] for t in tries)
    assert done.error == (f"The picture did not look like {mira.name} after 3 tries "
                          f"(best {best:.2f}, needed 0.50).")
    assert status == "failed" and len(jobs_of_type(studio, "generate-image")) == 3
    assert state["image"]["job_id"] == tries[1]["job_id"]  # Grace Hopper's face scored best
    assert "done" not in state["image"] and "export" not in state

    pipeline_comfy.picture_for = by_order(["astronaut"])  # run again: a fresh set of tries
    again = produce(studio, item, pictures=1)
    assert again.status == "completed", again.error
    with studio.db.session() as session:
        step = session.get(PlanItem, item.id).pipeline["image"]  # type: ignore[union-attr]
    assert len(step["tries"]) == 1 and step["tries"][0]["score"] >= 0.5


def test_without_her_references_the_likeness_cannot_be_checked_and_it_says_so(
        studio: Studio, pipeline_comfy: FakeComfyUI) -> None:
    item, mira = her_post(studio, references=False)
    done = produce(studio, item, pictures=1)
    assert done.status == "failed"
    assert done.error == (f"The picture's likeness could not be checked ({mira.name} has no reference "
                          "faces yet); set her references or pipeline.min_identity to 0 (it is 0.5).")


def test_with_the_minimum_at_zero_no_picture_is_judged(studio: Studio, pipeline_comfy: FakeComfyUI) -> None:
    item, _ = her_post(studio, references=False)
    studio.settings.pipeline.min_identity = 0.0
    done = produce(studio, item, pictures=1)
    assert done.status == "completed", done.error


def test_a_missing_face_model_stops_the_post_at_once_saying_so() -> None:
    verdict = Try(job_id="j", score=None, asset_id="a",
                  note="the face model is not installed (pip install face-recognition-models)")
    assert cannot_judge(verdict)
    assert refusal("Mia", Gate(minimum=0.55, tries=3), verdict) == (
        "The picture's likeness could not be checked: the face model is not installed (pip install "
        "face-recognition-models). Set pipeline.min_identity to 0 to make posts without the check (it is 0.55).")
    assert not cannot_judge(Try(job_id="j", score=None, asset_id="a", note="no face found"))  # worth a retry
