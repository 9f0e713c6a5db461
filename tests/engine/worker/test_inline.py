"""The command line's own consumer: a transient fault waits as long as the runner asks, then runs again."""
from __future__ import annotations

import logging

import pytest

from studio.engine.core import Studio
from studio.engine.db.models import Job
from studio.engine.jobs.context import JobContext
from studio.engine.jobs.errors import TransientError
from studio.engine.jobs.payloads import Empty
from studio.engine.jobs.registry import job_type
from studio.engine.jobs.runner import RETRY_STAGE
from studio.engine.jobs.status import FINISHED, JobStatus
from studio.engine.worker.inline import InlineConsumer
from tests.conftest import wait_until

stages_seen: list[str] = []


@job_type("test-inline-flaky", queue="general", payload=Empty, result=Empty)
def _flaky(ctx: JobContext, payload: Empty) -> Empty:
    with ctx.db.session() as session:
        job = session.get(Job, ctx.job_id)
        assert job is not None
        stages_seen.append(job.stage)
        if job.attempts < 3:
            raise TransientError("ComfyUI cannot be reached at 127.0.0.1:1")
    return Empty()


def test_transient_faults_are_tried_again_here_as_warnings(studio: Studio, monkeypatch: pytest.MonkeyPatch,
                                                          caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setattr("studio.engine.jobs.runner.RETRY_DELAY_S", 0.01)  # 0.01 s, 0.05 s: same schedule, shorter
    job = studio.jobs.submit(studio.workspace().id, "test-inline-flaky", Empty())
    consumer = InlineConsumer(studio, job)
    with caplog.at_level(logging.INFO):
        consumer.start()
        try:
            wait_until(lambda: studio.jobs.get(job.workspace_id, job.id).status in FINISHED,
                       what="the job to finish after two retries")
        finally:
            consumer.close()
    done = studio.jobs.get(job.workspace_id, job.id)
    assert done.status == JobStatus.COMPLETED and done.attempts == 3
    assert stages_seen == ["", "Retrying (attempt 2 of 4)", "Retrying (attempt 3 of 4)"]
    assert RETRY_STAGE not in stages_seen
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert [r.getMessage().split(" failed, ")[1] for r in warnings] == [
        "will retry in 0.01 s: ComfyUI cannot be reached at 127.0.0.1:1",
        "will retry in 0.05 s: ComfyUI cannot be reached at 127.0.0.1:1"]
    assert all(r.exc_info is None for r in caplog.records) and "Traceback" not in caplog.text
