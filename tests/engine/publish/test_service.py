"""The publish-post job through the real runner with a scripted platform: one job per item and
platform, retries only for transient faults (after the platform's Retry-After), plain lines for
the rest, and never a second post."""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from studio.engine.core import Studio
from studio.engine.db.models import Job, PlanItem, Publication
from studio.engine.db.types import utcnow
from studio.engine.errors import InvalidInput
from studio.engine.jobs.status import JobStatus
from studio.engine.publish.platform import Published, PublishError
from studio.engine.publish.service import JOB_TYPE, post_states, submit_publish
from tests.conftest import run_next_task
from tests.engine.publish.produced import ScriptedPlatform, connect_account, produced_item


@pytest.fixture
def platform(studio: Studio, monkeypatch: pytest.MonkeyPatch) -> ScriptedPlatform:
    scripted = ScriptedPlatform()
    monkeypatch.setattr("studio.engine.publish.clients.client_for", lambda _studio, _account: scripted)
    connect_account(studio)
    return scripted


def _row(studio: Studio, item: PlanItem, platform: str = "instagram") -> Publication:
    with studio.db.session() as session:
        row = session.scalars(select(Publication).where(Publication.plan_item_id == item.id,
                                                        Publication.platform == platform)).one()
        return row


def _jobs(studio: Studio) -> list[Job]:
    with studio.db.session() as session:
        return list(session.scalars(select(Job).where(Job.type == JOB_TYPE)))


def test_two_submits_make_one_job_that_posts_once(studio: Studio, platform: ScriptedPlatform) -> None:
    item = produced_item(studio)
    job = submit_publish(studio, item.id, "instagram")
    assert job is not None
    assert submit_publish(studio, item.id, "instagram") is None  # queued already
    run_next_task(studio, "general")
    done = studio.jobs.get(item.workspace_id, job.id)
    assert done.status == JobStatus.COMPLETED, done.error
    assert (done.result or {})["url"] == "https://www.instagram.com/p/C0ffee/"
    row = _row(studio, item)
    assert (row.status, row.remote_id, row.job_id) == ("published", "18000000000000001", job.id)
    assert row.published_at is not None
    assert submit_publish(studio, item.id, "instagram") is None  # published: never again
    assert len(platform.posts) == 1 and len(_jobs(studio)) == 1
    [post] = platform.posts
    assert post.kind == "image" and post.files[0].name == "post.jpg" and post.ai_generated
    assert post.caption == "Lisbon keeps its best light for last.\n\n#lisbon #goldenhour"
    assert post.title == "Golden hour, no filter"
    with studio.db.session() as session:
        state = session.get_one(PlanItem, item.id).pipeline
    posted = state["publish"]["posted"]["instagram"]
    assert posted["url"] == "https://www.instagram.com/p/C0ffee/" and state["publish"]["done"]


def test_a_transient_error_retries_after_the_platforms_retry_after(studio: Studio,
                                                                    platform: ScriptedPlatform) -> None:
    platform.outcomes = [PublishError("Instagram is rate limiting (HTTP 429)", transient=True, retry_after=90)]
    item = produced_item(studio)
    job = submit_publish(studio, item.id, "instagram")
    assert job is not None
    before = utcnow()
    run_next_task(studio, "general")
    waiting = studio.jobs.get(item.workspace_id, job.id)
    assert waiting.status == JobStatus.PENDING and waiting.next_attempt_at is not None
    assert 89 <= (waiting.next_attempt_at - before).total_seconds() <= 95  # not the runner's 5 s
    assert _row(studio, item).status == "pending"
    assert _row(studio, item).error == "Instagram: Instagram is rate limiting (HTTP 429)"
    huey = studio.queues.hueys["general"]
    [scheduled] = huey.storage.read_schedule((waiting.next_attempt_at + timedelta(seconds=1)).replace(tzinfo=None))
    task = huey.deserialize_task(scheduled)
    huey.execute(task, timestamp=task.eta)
    assert studio.jobs.get(item.workspace_id, job.id).status == JobStatus.COMPLETED
    assert _row(studio, item).status == "published" and len(platform.posts) == 2


def test_a_permanent_error_fails_at_once_with_the_platforms_reason(studio: Studio,
                                                                   platform: ScriptedPlatform) -> None:
    platform.outcomes = [PublishError("the caption is longer than 2,200 characters")]
    item = produced_item(studio)
    job = submit_publish(studio, item.id, "instagram")
    assert job is not None
    run_next_task(studio, "general")
    failed = studio.jobs.get(item.workspace_id, job.id)
    assert failed.status == JobStatus.FAILED and failed.attempts == 1
    assert failed.error == "Instagram: the caption is longer than 2,200 characters"
    [state] = post_states(studio, item.workspace_id, item.id)
    assert (state.status, state.error) == ("failed", failed.error)
    assert submit_publish(studio, item.id, "instagram") is not None  # the user may post it again


def test_a_refusal_before_posting_is_the_platforms_line_too(studio: Studio, platform: ScriptedPlatform,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    def too_long(post: object, progress: object) -> None:
        raise InvalidInput("The clip is 75 s long; this TikTok account posts at most 60 s.")
    monkeypatch.setattr(platform, "publish", too_long)
    item = produced_item(studio)
    job = submit_publish(studio, item.id, "instagram")
    assert job is not None
    run_next_task(studio, "general")
    failed = studio.jobs.get(item.workspace_id, job.id)
    assert failed.error == "Instagram: The clip is 75 s long; this TikTok account posts at most 60 s."
    assert _row(studio, item).status == "failed"


def test_an_expired_connection_says_to_reconnect(studio: Studio, platform: ScriptedPlatform) -> None:
    platform.outcomes = [PublishError("Error validating access token (code 190)", reconnect=True)]
    item = produced_item(studio)
    job = submit_publish(studio, item.id, "instagram")
    assert job is not None
    run_next_task(studio, "general")
    failed = studio.jobs.get(item.workspace_id, job.id)
    assert failed.status == JobStatus.FAILED
    assert failed.error == "Instagram: the connection expired — reconnect Instagram in Preferences → Automation"


def test_manual_leaves_the_post_ready_for_posting_by_hand(studio: Studio, platform: ScriptedPlatform) -> None:
    item = produced_item(studio, platform="youtube-shorts")
    assert submit_publish(studio, item.id, "youtube-shorts", manual=True) is None
    assert _row(studio, item, "youtube").status == "manual"
    assert submit_publish(studio, item.id, "youtube", manual=True) is None
    assert _jobs(studio) == [] and platform.posts == []


def test_a_run_cut_off_mid_post_never_posts_again(studio: Studio, platform: ScriptedPlatform) -> None:
    item = produced_item(studio)
    job = submit_publish(studio, item.id, "instagram")
    assert job is not None
    with studio.db.session() as session:  # as a worker that died inside publish() leaves it
        session.get_one(Publication, _row(studio, item).id).status = "uploading"
    run_next_task(studio, "general")
    failed = studio.jobs.get(item.workspace_id, job.id)
    assert failed.status == JobStatus.FAILED and platform.posts == []
    assert failed.error.startswith("Instagram: an earlier attempt was cut off while posting")


def test_only_a_produced_post_with_a_connected_account_is_queued(studio: Studio) -> None:
    draft = produced_item(studio)
    with studio.db.session() as session:
        session.get_one(PlanItem, draft.id).pipeline = {}
    with pytest.raises(InvalidInput, match="Only a produced post can be published"):
        submit_publish(studio, draft.id, "instagram")
    item = produced_item(studio)
    with pytest.raises(InvalidInput, match="No TikTok account is connected; connect one in Preferences"):
        submit_publish(studio, item.id, "tiktok")
    with pytest.raises(InvalidInput, match="Unknown platform 'myspace'"):
        submit_publish(studio, item.id, "myspace")
    assert _jobs(studio) == []


def test_two_studios_submitting_at_once_make_one_job(studio: Studio, platform: ScriptedPlatform) -> None:
    """As two workers' schedules reach the same post in the same minute."""
    item = produced_item(studio)
    others = [Studio.open(studio.paths.data_dir) for _ in range(2)]
    start = threading.Barrier(len(others))
    made: list[object] = []

    def submit(other: Studio) -> None:
        start.wait()
        made.append(submit_publish(other, item.id, "instagram"))

    threads = [threading.Thread(target=submit, args=(other,)) for other in others]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    for other in others:
        other.close()
    assert len(made) == 2 and sum(job is not None for job in made) == 1
    assert len(_jobs(studio)) == 1


def test_what_the_platform_said_beside_the_post_is_kept(studio: Studio, platform: ScriptedPlatform) -> None:
    inbox = "Sent to the TikTok app's inbox: open TikTok to finish the post."
    platform.outcomes = [Published("v_inbox_1", "", {"status": "inbox", "message": inbox})]
    item = produced_item(studio)
    assert submit_publish(studio, item.id, "instagram") is not None
    run_next_task(studio, "general")
    [state] = post_states(studio, item.workspace_id, item.id)
    assert (state.status, state.url, state.note) == ("published", "", inbox)
