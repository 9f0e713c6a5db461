"""The worker's job-row writes: on SQLite one held connection per thread, statements run on its
driver connection with the column types' own converters (the same rows as through SQLAlchemy),
replaced after any failure; on PostgreSQL pooled connections, so that a server that dropped
them costs no job."""
from __future__ import annotations

import uuid
from typing import Any

import psycopg
import pytest
from sqlalchemy import select, update
from sqlalchemy.exc import DBAPIError, IntegrityError

from studio.engine.core import Studio
from studio.engine.db.types import utcnow
from studio.engine.errors import InvalidInput
from studio.engine.jobs.context import JobContext
from studio.engine.jobs.job_rows import JOBS, claim, record_outcome
from studio.engine.jobs.payloads import Empty
from studio.engine.jobs.registry import job_type
from studio.engine.jobs.row_connections import RowConnections
from studio.engine.jobs.runner import JobRunner
from studio.engine.jobs.status import JobStatus

NOOP = "test-row-connections-noop"


@job_type(NOOP, queue="general", payload=Empty, result=Empty)
def _noop(ctx: JobContext, payload: Empty) -> Empty:
    return Empty()


def _submit(studio: Studio) -> uuid.UUID:
    return studio.jobs.submit(studio.workspace("Rows", create=True).id, NOOP, Empty()).id


def _run_noop(studio: Studio, runner: JobRunner) -> str:
    job_id = _submit(studio)
    runner(str(job_id))
    return studio.jobs.get(studio.workspace("Rows").id, job_id).status


def _row(studio: Studio, job_id: uuid.UUID) -> dict[str, Any]:
    with studio.db.engine.connect() as connection:
        return dict(connection.execute(select(JOBS).where(JOBS.c.id == job_id)).one()._mapping)


def test_claims_and_outcomes_on_the_held_connection_write_what_sqlalchemy_writes(studio: Studio) -> None:
    rows = RowConnections(studio.db)
    try:
        written = []
        for through in (rows, None):
            job_id = _submit(studio)
            claimed = claim(studio.db, job_id, "rows:1:0000", through)
            assert claimed is not None and claimed.job_type == NOOP
            assert record_outcome(studio.db, claimed.claim, JobStatus.COMPLETED, error="", message="Done.",
                                  result={"note": "token=sk-abcdefghijklmnopqrstuvwx"}, rows=through)
            written.append(_row(studio, job_id))
        assert rows.opened == 1  # both writes of the first job on one connection
    finally:
        rows.close()
    varying = ("id", "task_id", "created_at", "updated_at", "started_at", "finished_at")
    held, pooled = ({k: v for k, v in row.items() if k not in varying} for row in written)
    assert held == pooled and held["status"] == JobStatus.COMPLETED
    assert "sk-abcdefghijklmnopqrstuvwx" not in str(held["result"])  # redacted as by SQLAlchemy
    assert written[0]["finished_at"] >= written[0]["started_at"] >= written[0]["created_at"]


def test_the_held_connection_checks_foreign_keys_and_a_failure_gives_it_up(studio: Studio) -> None:
    rows = RowConnections(studio.db)
    job_id = _submit(studio)
    try:
        with pytest.raises(IntegrityError):  # foreign keys on, as on the pool's connections
            rows.first(update(JOBS).where(JOBS.c.id == job_id).values(workspace_id=uuid.uuid4(), updated_at=utcnow())
                       .returning(JOBS.c.workspace_id), {})
        assert claim(studio.db, job_id, "rows:1:0000", rows) is not None  # on a new connection
        assert rows.opened == 2
    finally:
        rows.close()


def test_a_runner_goes_on_after_its_held_connection_broke(studio: Studio) -> None:
    runner = JobRunner(studio.db, studio.paths, studio.settings, "rows:1:0000")
    try:
        assert _run_noop(studio, runner) == JobStatus.COMPLETED
        runner.rows.close()  # as a failing disk might leave it: the next write finds it closed
        assert _run_noop(studio, runner) == JobStatus.COMPLETED
        assert runner.rows.opened == 2
    finally:
        runner.close()


def test_a_write_on_a_connection_broken_underneath_is_a_database_outage(studio: Studio) -> None:
    rows = RowConnections(studio.db)
    try:
        job_id = _submit(studio)
        assert claim(studio.db, job_id, "rows:1:0000", rows) is not None
        held = rows._held()
        held.connection.driver_connection.close()  # type: ignore[union-attr]
        with pytest.raises(DBAPIError) as failed:
            rows.first(update(JOBS).where(JOBS.c.id == job_id).values(stage="x", updated_at=utcnow())
                       .returning(JOBS.c.workspace_id), {})
        assert failed.value.connection_invalidated  # what jobs/outage.py waits out
    finally:
        rows.close()


def test_jobs_still_run_after_postgresql_dropped_the_workers_connections(
        studio: Studio, postgres_url: str) -> None:
    studio.settings.set("database.url", postgres_url)
    studio.save_settings()
    team = Studio.open(studio.paths.data_dir)
    runner = JobRunner(team.db, team.paths, team.settings, "rows:1:0000")
    try:
        assert team.db.engine.dialect.name == "postgresql"
        assert _run_noop(team, runner) == JobStatus.COMPLETED
        database = postgres_url.rsplit("/", 1)[1]
        with psycopg.connect(postgres_url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as admin:
            ended = admin.execute("SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM "
                                  "pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()) t",
                                  (database,)).fetchone()
        assert ended is not None and ended[0] >= 1  # the pool's connections are gone on the server
        assert _run_noop(team, runner) == JobStatus.COMPLETED
    finally:
        runner.close()
        team.close()


def test_a_submit_to_a_workspace_gone_meanwhile_says_so_in_one_line(studio: Studio) -> None:
    with pytest.raises(InvalidInput, match="refers to something that does not exist"):
        studio.jobs.submit(uuid.uuid4(), NOOP, Empty())  # the foreign key refuses it
    with studio.db.engine.connect() as connection:
        assert connection.execute(select(JOBS.c.id)).first() is None


def test_submits_share_one_held_connection_given_up_on_a_failure_and_closed_with_the_database(
        studio: Studio) -> None:
    submits = studio.jobs.rows
    first, second = _submit(studio), _submit(studio)
    assert submits.opened == 1
    with pytest.raises(InvalidInput):
        studio.jobs.submit(uuid.uuid4(), NOOP, Empty())  # the foreign key refuses it ...
    third = _submit(studio)  # ... and the next submit opens a new connection
    studio.db.dispose()  # e.g. the studio closing: the held connection goes with the pool's
    fourth = _submit(studio)
    assert submits.opened == 3
    assert {_row(studio, job)["status"] for job in (first, second, third, fourth)} == {JobStatus.PENDING}
