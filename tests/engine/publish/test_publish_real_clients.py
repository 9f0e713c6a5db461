"""The publish-post job with the real Instagram client against the Graph API stand-in: posted by
a real worker process, and a 429's Retry-After and an expired token as the job records them."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest

from studio.engine.core import Studio
from studio.engine.db.types import utcnow
from studio.engine.jobs.status import JobStatus
from studio.engine.publish.account_tokens import save_tokens
from studio.engine.publish.oauth import Tokens
from studio.engine.publish.service import post_states, submit_publish
from tests.conftest import WorkerProcess, run_next_task, wait_until
from tests.engine.publish.produced import connect_account, produced_item
from tests.fakes.instagram_api import FakeInstagram

TOKEN = "IGAA-long-lived"


@pytest.fixture
def graph(studio: Studio) -> Iterator[FakeInstagram]:
    """The stand-in as the studio's Instagram API, a connected account with its token stored, and
    a URL prefix where Instagram fetches the pictures."""
    with FakeInstagram() as fake:
        studio.settings.set("publish.instagram.base_url", fake.url + "/v24.0")
        studio.settings.set("publish.public_url_prefix", "https://cdn.example.org/mira")
        studio.save_settings()
        account = connect_account(studio, "instagram", expires_at=utcnow() + timedelta(days=50))
        save_tokens(studio.secrets, account.workspace_id, "instagram",
                    Tokens(access_token=TOKEN, expires_at=account.expires_at, account_id=fake.user_id))
        yield fake


def test_a_worker_posts_the_picture_once(studio: Studio, graph: FakeInstagram,
                                         worker_factory: Callable[..., WorkerProcess]) -> None:
    item = produced_item(studio)
    worker_factory()
    job = submit_publish(studio, item.id, "instagram")
    assert job is not None
    wait_until(lambda: studio.jobs.get(item.workspace_id, job.id).status in (JobStatus.COMPLETED, JobStatus.FAILED),
               timeout=60, what="the post")
    done = studio.jobs.get(item.workspace_id, job.id)
    assert done.status == JobStatus.COMPLETED, done.error
    [container] = graph.published
    assert container.fields["image_url"].startswith("https://cdn.example.org/mira/2026-12-01_0930-instagram-")
    assert container.fields["caption"] == "Lisbon keeps its best light for last.\n\n#lisbon #goldenhour"
    [state] = post_states(studio, item.workspace_id, item.id)
    assert state.status == "published" and state.url.startswith("https://www.instagram.com/")
    assert state.note == "1 post(s) in the platform's 24-hour publishing window"
    assert submit_publish(studio, item.id, "instagram") is None


def test_a_429_waits_the_retry_after_and_an_expired_token_asks_to_reconnect(studio: Studio,
                                                                            graph: FakeInstagram) -> None:
    graph.rate_limited("120")
    item = produced_item(studio)
    job = submit_publish(studio, item.id, "instagram")
    assert job is not None
    before = utcnow()
    run_next_task(studio, "general")
    waiting = studio.jobs.get(item.workspace_id, job.id)
    assert waiting.status == JobStatus.PENDING and waiting.next_attempt_at is not None
    assert 119 <= (waiting.next_attempt_at - before).total_seconds() <= 125
    assert graph.published == []
    graph.expired.add(TOKEN)
    huey = studio.queues.hueys["general"]
    [scheduled] = huey.storage.read_schedule((waiting.next_attempt_at + timedelta(seconds=1)).replace(tzinfo=None))
    task = huey.deserialize_task(scheduled)
    huey.execute(task, timestamp=task.eta)
    failed = studio.jobs.get(item.workspace_id, job.id)
    assert failed.status == JobStatus.FAILED
    assert failed.error == "Instagram: the connection expired — reconnect Instagram in Preferences → Automation"
    assert graph.published == []
