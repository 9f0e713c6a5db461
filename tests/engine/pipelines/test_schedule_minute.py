"""The minutely run: posts made ahead of their time and posted at it, once, with two workers.

Two Studio objects opened on one data folder stand for two workers on one database and queue;
the test hands both the same moment at once. Publishing is the publish service's own
``submit_publish``, counted on its way; the platform is a scripted client.
"""
from __future__ import annotations

import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pytest

from studio.engine.core import Studio
from studio.engine.db.models import Job, PlanItem, Publication
from studio.engine.db.repositories import Repository
from studio.engine.errors import SettingsError, StudioError
from studio.engine.pipelines import schedule
from studio.engine.pipelines.schedule import MinuteReport, run_minute
from studio.engine.publish.service import submit_publish
from tests.conftest import run_next_task
from tests.engine.pipelines.helpers import PipelineThread, jobs_of_type, make_item, run_step
from tests.engine.publish.produced import ScriptedPlatform, connect_account, produced_item
from tests.fakes.comfyui_server import FakeComfyUI

SIX_PM = datetime(2026, 12, 10, 18, 0).astimezone()  # local, as the user set it


@dataclass
class PublishCalls:
    """The publish service's submit_publish, each call recorded."""

    calls: list[tuple[uuid.UUID, str, bool]] = field(default_factory=list)

    def __call__(self, studio: Studio, item_id: uuid.UUID, platform: str, *,
                 manual: bool = False) -> Job | None:
        self.calls.append((item_id, platform, manual))
        return submit_publish(studio, item_id, platform, manual=manual)


@pytest.fixture
def published(monkeypatch: pytest.MonkeyPatch) -> PublishCalls:
    calls = PublishCalls()
    monkeypatch.setattr(schedule, "submit_publish", calls)
    return calls


@pytest.fixture
def platform(monkeypatch: pytest.MonkeyPatch) -> ScriptedPlatform:
    scripted = ScriptedPlatform()
    monkeypatch.setattr("studio.engine.publish.clients.client_for", lambda _studio, _account: scripted)
    return scripted


def produced_at(studio: Studio, when: datetime, platform: str = "instagram") -> PlanItem:
    """A post whose pipeline finished, timed at ``when``."""
    item = produced_item(studio, platform=platform)
    with studio.db.session() as session:
        repo = Repository(session, item.workspace_id)
        return repo.update(repo.get(PlanItem, item.id), scheduled_at=when)


@pytest.fixture
def second_worker(studio: Studio) -> Iterator[Studio]:
    studio.save_settings()  # what the first has set, the second reads
    other = Studio.open(studio.paths.data_dir)
    yield other
    other.close()


def at_once(workers: list[Studio], now: datetime) -> list[MinuteReport]:
    """Every worker's minutely run on the same moment, on threads of their own, at once."""
    with ThreadPoolExecutor(max_workers=len(workers)) as pool:
        return list(pool.map(lambda worker: run_minute(worker, now), workers))


def produced(reports: list[MinuteReport]) -> list[str]:
    return [job.payload["item_id"] for report in reports for job in report.produced]


def test_a_scheduled_post_is_produced_and_published_at_its_time_once_with_two_workers(
        studio: Studio, pipeline_comfy: FakeComfyUI, published: PublishCalls,
        platform: ScriptedPlatform) -> None:
    item = make_item(studio, when=SIX_PM)
    connect_account(studio, "instagram")
    studio.settings.pipeline.produce_ahead_hours = 6
    studio.settings.publish.instagram.enabled = True
    studio.save_settings()
    other = Studio.open(studio.paths.data_dir)
    try:
        workers = [studio, other]
        assert produced(at_once(workers, SIX_PM - timedelta(hours=7))) == []  # not yet
        started = at_once(workers, SIX_PM - timedelta(hours=5, minutes=59))
        assert produced(started) == [str(item.id)]  # one worker made it, the other saw it taken
        assert produced(at_once(workers, SIX_PM - timedelta(hours=5, minutes=58))) == []
        [job] = [j for report in started for j in report.produced]
        runner = PipelineThread(studio)
        run_step(studio, job.id, "generate-image", "generation")
        runner.join()
        assert studio.jobs.get(item.workspace_id, job.id).status == "completed"

        assert [r.published for r in at_once(workers, SIX_PM - timedelta(minutes=1))] == [[], []]
        reports = at_once(workers, SIX_PM)
        for minute in range(1, 4):  # the next minutes, one worker after the other
            reports += [run_minute(worker, SIX_PM + timedelta(minutes=minute)) for worker in workers]
    finally:
        other.close()
    assert [i for report in reports for i in report.published] == [item.id]
    assert published.calls == [(item.id, "instagram", False)]
    assert len(jobs_of_type(studio, "run-pipeline")) == 1
    [post] = jobs_of_type(studio, "publish-post")
    run_next_task(studio, post.queue)
    assert studio.jobs.get(item.workspace_id, post.id).status == "completed"
    assert len(platform.posts) == 1 and platform.posts[0].caption.startswith("Lisbon keeps")
    with studio.db.session() as session:
        [row] = session.query(Publication).all()
    assert (row.status, row.url) == ("published", "https://www.instagram.com/p/C0ffee/")


def test_publishing_off_leaves_the_post_ready_for_posting_by_hand(
        studio: Studio, second_worker: Studio, published: PublishCalls) -> None:
    shorts = produced_at(studio, SIX_PM, platform="youtube-shorts")
    reel = produced_at(studio, SIX_PM + timedelta(minutes=30))
    connect_account(studio, "youtube")
    studio.settings.publish.youtube.enabled = True  # instagram stays off
    studio.save_settings()
    second_worker.settings.publish.youtube.enabled = True
    at_once([studio, second_worker], SIX_PM)
    at_once([studio, second_worker], SIX_PM + timedelta(minutes=30))
    assert published.calls == [(shorts.id, "youtube", False), (reel.id, "instagram", True)]
    assert [j.payload["platform"] for j in jobs_of_type(studio, "publish-post")] == ["youtube"]
    with studio.db.session() as session:
        manual = session.query(Publication).filter_by(plan_item_id=reel.id).one()
    assert manual.status == "manual"


def test_posts_long_past_or_beyond_the_window_are_left_alone(
        studio: Studio, published: PublishCalls) -> None:
    make_item(studio, when=SIX_PM - timedelta(days=2))  # a worker off for days: left to the user
    produced_at(studio, SIX_PM - timedelta(days=2))
    make_item(studio, when=SIX_PM + timedelta(hours=7))  # beyond the six hours ahead
    make_item(studio, when=SIX_PM, status="draft")  # not approved
    late = make_item(studio, when=SIX_PM - timedelta(hours=3))  # late by hours: made now
    report = run_minute(studio, SIX_PM)
    assert produced([report]) == [str(late.id)] and report.published == []
    assert published.calls == []


def test_produce_ahead_zero_turns_it_off(studio: Studio) -> None:
    make_item(studio, when=SIX_PM + timedelta(minutes=5))
    studio.settings.set("pipeline.produce_ahead_hours", "0")
    assert run_minute(studio, SIX_PM) == MinuteReport([], [], [])
    with pytest.raises(SettingsError, match="at least 0"):
        studio.settings.set("pipeline.produce_ahead_hours", "-2")


def test_a_post_is_claimed_once_and_given_back_when_it_cannot_start(studio: Studio) -> None:
    item = make_item(studio, when=SIX_PM)
    assert schedule.claim_production(studio, item.id, item.version)
    assert not schedule.claim_production(studio, item.id, item.version)  # taken: producing now
    odd = make_item(studio, when=SIX_PM, platform="mastodon")  # no export preset for it
    assert run_minute(studio, SIX_PM).produced == []
    with studio.db.session() as session:
        found = session.get(PlanItem, odd.id)
    assert found is not None and found.status == "approved"  # as it was, not stuck producing


def test_a_hand_over_left_by_a_stopped_worker_is_taken_again_after_a_while(
        studio: Studio, published: PublishCalls) -> None:
    item = produced_at(studio, SIX_PM)
    assert schedule.claim_publishing(studio, item, SIX_PM)  # and then the worker stopped
    assert run_minute(studio, SIX_PM + timedelta(minutes=5)).published == []
    assert run_minute(studio, SIX_PM + timedelta(minutes=11)).published == [item.id]
    assert published.calls == [(item.id, "instagram", True)]  # publishing is off here


def test_a_step_that_fails_leaves_the_others_to_run(studio: Studio, monkeypatch: pytest.MonkeyPatch) -> None:
    def busy(_studio: Studio, _now: datetime) -> list[Job]:
        raise StudioError("the database is busy")

    monkeypatch.setattr(schedule, "run_daily_plans", busy)
    item = make_item(studio, when=SIX_PM)
    report = run_minute(studio, SIX_PM - timedelta(hours=1))
    assert report.planned == [] and produced([report]) == [str(item.id)]


def test_a_post_for_an_unconnected_account_says_so_on_the_post_then_goes_once_connected(
        studio: Studio, platform: ScriptedPlatform) -> None:
    reel = produced_at(studio, SIX_PM)
    studio.settings.publish.instagram.enabled = True
    assert run_minute(studio, SIX_PM).published == []
    with studio.db.session() as session:
        row = session.query(Publication).filter_by(plan_item_id=reel.id).one()
    assert row.status == "failed" and row.error.startswith("No Instagram account is connected")
    connect_account(studio, "instagram")
    later = SIX_PM + schedule.HANDOVER_HOLD + timedelta(minutes=1)
    assert run_minute(studio, later).published == [reel.id]  # the hold is over: handed over now
    assert [j.payload["platform"] for j in jobs_of_type(studio, "publish-post")] == ["instagram"]
