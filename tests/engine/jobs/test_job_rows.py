"""The job row's hot-path writes: a submit's row as the ORM would write it, one claim that reads
back what the run needs, one outcome that lands only under the claim, and each announced."""
from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import update

from studio.engine.core import Studio
from studio.engine.db.changes import Change, Entity, Op
from studio.engine.db.models import Job
from studio.engine.jobs.context import JobContext
from studio.engine.jobs.job_rows import RETRY_STAGE, claim, record_outcome
from studio.engine.jobs.ownership import Claim
from studio.engine.jobs.payloads import Empty
from studio.engine.jobs.registry import job_type
from studio.engine.jobs.status import JobStatus
from studio.engine.redact import REDACTED


@job_type("test-rows-noop", queue="general", payload=Empty, result=Empty)
def _noop(ctx: JobContext, payload: Empty) -> Empty:
    return Empty()


def _heard(studio: Studio) -> list[Change]:
    heard: list[Change] = []

    def listener(changes: Sequence[Change]) -> None:
        heard.extend(changes)
    studio.db.changes.subscribe(listener)
    return heard


def _submit(studio: Studio) -> Job:
    return studio.jobs.submit(studio.workspace("Rows", create=True).id, "test-rows-noop", Empty())


def test_a_submitted_row_reads_back_as_the_job_submit_returned(studio: Studio) -> None:
    job = _submit(studio)
    stored = studio.jobs.get(job.workspace_id, job.id)
    for column in Job.__table__.columns:
        assert getattr(stored, column.name) == getattr(job, column.name), column.name
    assert (stored.status, stored.version, stored.attempts, stored.max_attempts) == (JobStatus.PENDING, 1, 0, 4)


def test_the_claim_reads_back_the_run_s_needs_and_only_a_waiting_job_is_claimed(studio: Studio) -> None:
    job = _submit(studio)
    heard = _heard(studio)
    claimed = claim(studio.db, job.id, "worker-a")
    assert claimed is not None
    assert (claimed.workspace_id, claimed.job_type, claimed.payload) == (job.workspace_id, job.type, job.payload)
    assert claimed.claim == Claim(job.id, "worker-a", 1) and claimed.max_attempts == 4
    row = studio.jobs.get(job.workspace_id, job.id)
    assert (row.status, row.worker_id, row.attempts, row.message, row.version) == (
        JobStatus.PROCESSING, "worker-a", 1, "Running.", 2)
    assert row.started_at is not None and row.updated_at > job.updated_at
    assert claim(studio.db, job.id, "worker-b") is None  # already running: nobody claims it again
    assert heard == [Change(Entity.JOB, job.workspace_id, frozenset({job.id}), Op.UPDATED)]


def test_a_queue_message_claims_its_job_only_while_the_row_names_it(studio: Studio) -> None:
    """A message replaced since (jobs retry, a reorder, recovery) claims nothing; a row that
    names no message takes any, and a claim that names none takes the row whatever it names."""
    job = _submit(studio)
    assert job.task_id and claim(studio.db, job.id, "worker-a", task_id=str(uuid.uuid4())) is None
    assert studio.jobs.get(job.workspace_id, job.id).status == JobStatus.PENDING
    claimed = claim(studio.db, job.id, "worker-a", task_id=job.task_id)
    assert claimed is not None and claimed.claim == Claim(job.id, "worker-a", 1)
    nameless = _submit(studio)
    with studio.db.session() as session:
        session.execute(update(Job).where(Job.id == nameless.id).values(task_id=None))
    assert claim(studio.db, nameless.id, "worker-a", task_id=str(uuid.uuid4())) is not None
    assert claim(studio.db, _submit(studio).id, "worker-a") is not None


def test_a_claim_after_a_retry_wait_names_the_attempt(studio: Studio) -> None:
    job = _submit(studio)
    with studio.db.session() as session:
        session.execute(update(Job).where(Job.id == job.id).values(stage=RETRY_STAGE, progress=0.5,
                                                                    attempts=1))
    claim(studio.db, job.id, "worker-a")
    row = studio.jobs.get(job.workspace_id, job.id)
    assert (row.stage, row.progress, row.attempts) == ("Retrying (attempt 2 of 4)", 0.0, 2)


def test_the_outcome_lands_only_under_the_claim(studio: Studio) -> None:
    job = _submit(studio)
    first = claim(studio.db, job.id, "worker-a")
    assert first is not None
    with studio.db.session() as session:  # recovery re-queued it and another worker took it
        session.execute(update(Job).where(Job.id == job.id).values(status=JobStatus.PENDING))
    second = claim(studio.db, job.id, "worker-b")
    assert second is not None
    assert not record_outcome(studio.db, first.claim, JobStatus.COMPLETED, error="", message="Done.",
                              result={"stale": True})
    heard = _heard(studio)
    assert record_outcome(studio.db, second.claim, JobStatus.COMPLETED, error="", message="Done.",
                          result={"answer": 42})
    row = studio.jobs.get(job.workspace_id, job.id)
    assert (row.status, row.result, row.progress, row.message, row.worker_id) == (
        JobStatus.COMPLETED, {"answer": 42}, 1.0, "Done.", "worker-b")
    assert heard == [Change(Entity.JOB, job.workspace_id, frozenset({job.id}), Op.UPDATED)]


def test_a_failure_s_text_is_redacted_and_a_deleted_row_has_nothing_to_record(studio: Studio) -> None:
    job = _submit(studio)
    claimed = claim(studio.db, job.id, "worker-a")
    assert claimed is not None
    secret = "sk-" + uuid.uuid4().hex
    assert record_outcome(studio.db, claimed.claim, JobStatus.FAILED, error=f"refused key {secret}",
                          message="Failed.", result=None)
    row = studio.jobs.get(job.workspace_id, job.id)
    assert (row.status, row.error, row.finished_at is not None) == (
        JobStatus.FAILED, f"refused key {REDACTED}", True)
    gone = Claim(uuid.uuid4(), "worker-a", 1)
    assert record_outcome(studio.db, gone, JobStatus.COMPLETED, error="", message="Done.", result={})


def test_the_same_writes_on_postgresql(studio: Studio, postgres_url: str) -> None:
    """RETURNING, the fixed words written as SQL text and the claim's condition, on a server."""
    studio.settings.set("database.url", postgres_url)
    studio.save_settings()
    team = Studio.open(studio.paths.data_dir)
    try:
        assert team.db.engine.dialect.name == "postgresql"
        job = team.jobs.submit(team.workspace(f"Rows {uuid.uuid4().hex[:6]}", create=True).id,
                               "test-rows-noop", Empty())
        claimed = claim(team.db, job.id, "worker-a")
        assert claimed is not None and claimed.claim.attempts == 1 and claim(team.db, job.id, "b") is None
        stale = Claim(job.id, "worker-a", 2)
        assert not record_outcome(team.db, stale, JobStatus.COMPLETED, error="", message="Done.", result={})
        assert record_outcome(team.db, claimed.claim, JobStatus.COMPLETED, error="", message="Done.",
                              result={"answer": 42})
        row = team.jobs.get(job.workspace_id, job.id)
        assert (row.status, row.message, row.error, row.result, row.version) == (
            JobStatus.COMPLETED, "Done.", "", {"answer": 42}, 3)
    finally:
        team.close()
