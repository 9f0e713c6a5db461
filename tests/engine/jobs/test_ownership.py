"""A worker records a job's outcome only while it still owns the job: a run that another worker
took over meanwhile is discarded (its files removed, no second asset row for one key)."""
from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass

import pytest
from sqlalchemy import select, update

from studio.engine.core import Studio
from studio.engine.db.models import Asset, Job
from studio.engine.db.repositories import Repository
from studio.engine.jobs.context import JobContext
from studio.engine.jobs.errors import TransientError
from studio.engine.jobs.payloads import Empty
from studio.engine.jobs.registry import job_type
from studio.engine.jobs.runner import JobRunner
from studio.engine.jobs.status import JobStatus
from studio.engine.storage.local import LocalStore

OTHER = "other-box:77:abcdef01"


@dataclass(frozen=True, slots=True)
class Made:
    assets: tuple[str, ...]


def _key(ctx: JobContext) -> str:
    return f"images/{ctx.workspace_id}/{ctx.job_id}/out.png"


def _taken_over(ctx: JobContext, *, other_row: bool) -> None:
    """What the other worker did while this one still ran: claimed the job (its recovery thought
    this worker gone) and, with ``other_row``, stored its own output under the same key."""
    with ctx.db.session() as session:
        session.execute(update(Job).where(Job.id == ctx.job_id).values(
            worker_id=OTHER, attempts=Job.attempts + 1, version=Job.version + 1))
        if other_row:
            Repository(session, ctx.workspace_id).add(Asset(kind="image", storage_key=_key(ctx),
                                                            job_id=ctx.job_id))


def _make_output(ctx: JobContext) -> Made:
    stored = LocalStore(ctx.paths.assets_dir).put_bytes(b"png from the stale run", _key(ctx))
    with ctx.db.session() as session:
        asset = Repository(session, ctx.workspace_id).add(Asset(
            kind="image", storage_key=stored.key, job_id=ctx.job_id, sha256=stored.sha256))
        asset_id = str(asset.id)
    return Made(assets=(asset_id,))


@job_type("test-taken-over", queue="general", payload=Empty, result=Made)
def _run_taken_over(ctx: JobContext, payload: Empty) -> Made:
    made = _make_output(ctx)
    _taken_over(ctx, other_row=False)
    return made


@job_type("test-taken-over-both-stored", queue="general", payload=Empty, result=Made)
def _run_taken_over_both_stored(ctx: JobContext, payload: Empty) -> Made:
    made = _make_output(ctx)
    _taken_over(ctx, other_row=True)
    return made


@job_type("test-taken-over-then-transient", queue="general", payload=Empty, result=Empty)
def _run_taken_over_then_transient(ctx: JobContext, payload: Empty) -> Empty:
    _taken_over(ctx, other_row=False)
    raise TransientError("ComfyUI cannot be reached at 127.0.0.1:1")


ran_on: list[str] = []


@job_type("test-taken-over-stops", queue="general", payload=Empty, result=Empty)
def _run_taken_over_stops(ctx: JobContext, payload: Empty) -> Empty:
    _taken_over(ctx, other_row=False)
    ctx.progress(0.5, stage="still going")  # not written: the row is the other worker's now
    ctx.check_canceled()  # the lost claim counts as canceled
    ran_on.append("after the takeover")
    return Empty()


@job_type("test-owned", queue="general", payload=Empty, result=Made)
def _run_owned(ctx: JobContext, payload: Empty) -> Made:
    return _make_output(ctx)


def _job(studio: Studio, job_type: str) -> uuid.UUID:
    with studio.db.session() as session:
        job = Repository(session, studio.workspace().id).add(
            Job(type=job_type, queue="general", payload={}, title=job_type))
        return job.id


def _assets(studio: Studio, job_id: uuid.UUID) -> list[Asset]:
    with studio.db.session() as session:
        return list(session.scalars(select(Asset).where(Asset.job_id == job_id)).all())


def test_a_stale_owner_s_result_is_discarded_with_its_files(studio: Studio,
                                                            caplog: pytest.LogCaptureFixture) -> None:
    job_id = _job(studio, "test-taken-over")
    with caplog.at_level(logging.WARNING, logger="studio.jobs"):
        JobRunner(studio.db, studio.paths, studio.settings, "stale-box:1:0000")(str(job_id))
    job = studio.jobs.get(studio.workspace().id, job_id)
    assert (job.status, job.worker_id, job.attempts) == (JobStatus.PROCESSING, OTHER, 2)
    assert not job.result  # the stale run's answer is not recorded
    assert _assets(studio, job_id) == []
    assert not LocalStore(studio.paths.assets_dir).exists(f"images/{job.workspace_id}/{job_id}/out.png")
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("no longer owns it" in line and "result is discarded with the 1 file" in line
               for line in warnings), warnings


def test_one_key_keeps_one_row_and_its_file_when_the_owner_stored_it_too(studio: Studio) -> None:
    job_id = _job(studio, "test-taken-over-both-stored")
    JobRunner(studio.db, studio.paths, studio.settings, "stale-box:1:0000")(str(job_id))
    rows = _assets(studio, job_id)
    key = f"images/{studio.workspace().id}/{job_id}/out.png"
    assert [row.storage_key for row in rows] == [key]  # the owner's row alone
    assert LocalStore(studio.paths.assets_dir).exists(key)  # the file the owner's row names stays


def test_a_stale_owner_does_not_schedule_a_retry_of_a_job_it_lost(studio: Studio) -> None:
    job_id = _job(studio, "test-taken-over-then-transient")
    JobRunner(studio.db, studio.paths, studio.settings, "stale-box:1:0000")(str(job_id))
    job = studio.jobs.get(studio.workspace().id, job_id)
    assert (job.status, job.worker_id, job.next_attempt_at) == (JobStatus.PROCESSING, OTHER, None)


def test_the_owner_still_completes_its_job(studio: Studio) -> None:
    job_id = _job(studio, "test-owned")
    JobRunner(studio.db, studio.paths, studio.settings, "owner-box:1:0000")(str(job_id))
    job = studio.jobs.get(studio.workspace().id, job_id)
    assert job.status == JobStatus.COMPLETED
    assert job.result["assets"] == [str(a.id) for a in _assets(studio, job_id)]


def test_a_run_that_lost_its_job_stops_at_its_next_check_and_writes_no_progress(studio: Studio) -> None:
    job_id = _job(studio, "test-taken-over-stops")
    JobRunner(studio.db, studio.paths, studio.settings, "stale-box:1:0000")(str(job_id))
    job = studio.jobs.get(studio.workspace().id, job_id)
    assert ran_on == []
    assert (job.status, job.worker_id, job.stage) == (JobStatus.PROCESSING, OTHER, "")
