"""What pipeline tests here, in tests/cli and in tests/ui share: a fake ComfyUI that makes stills
and clips, an approved post, and running a pipeline's steps from their own queues."""
from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from studio.engine.core import Studio
from studio.engine.db.models import ContentPlan, Job, PlanItem
from studio.engine.db.repositories import Repository
from studio.engine.influencers import Persona, create_influencer
from tests.conftest import run_next_task, wait_until
from tests.engine.media.conftest import make_clip
from tests.fakes.comfyui_nodes import VIDEO_PACKS
from tests.fakes.comfyui_server import FakeComfyUI


@pytest.fixture
def pipeline_comfy(studio: Studio, ffmpeg: str, tmp_path_factory: pytest.TempPathFactory,
                   monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeComfyUI]:
    """The studio's ComfyUI for pipelines: stills, and a real clip for every video prompt.

    The pipeline looks at its steps every 50 ms, so a test waits no longer than the steps take.
    """
    monkeypatch.setattr("studio.engine.pipelines.run.POLL_S", 0.05)
    clip = make_clip(ffmpeg, tmp_path_factory.mktemp("comfy") / "out.mp4", size="160x288",
                     seconds=2.0, audio=False)
    with FakeComfyUI(checkpoints=["sd15.safetensors", "svd_xt_1_1.safetensors"], custom_packs=VIDEO_PACKS,
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
