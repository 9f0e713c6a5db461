"""The worker's job-row connections: held per thread on SQLite, replaced after any failure, and
on PostgreSQL fresh from the pool, so that a server that dropped them costs no job."""
from __future__ import annotations

import psycopg
import pytest
from sqlalchemy import text

from studio.engine.core import Studio
from studio.engine.jobs.context import JobContext
from studio.engine.jobs.payloads import Empty
from studio.engine.jobs.registry import job_type
from studio.engine.jobs.row_connections import RowConnections
from studio.engine.jobs.runner import JobRunner
from studio.engine.jobs.status import JobStatus


@job_type("test-row-connections-noop", queue="general", payload=Empty, result=Empty)
def _noop(ctx: JobContext, payload: Empty) -> Empty:
    return Empty()


def _run_noop(studio: Studio, runner: JobRunner) -> str:
    ws = studio.workspace("Rows", create=True)
    job = studio.jobs.submit(ws.id, "test-row-connections-noop", Empty())
    runner(str(job.id))
    return studio.jobs.get(ws.id, job.id).status


def test_a_thread_keeps_its_connection_from_one_write_to_the_next(studio: Studio) -> None:
    rows = RowConnections(studio.db)
    try:
        with rows.begin() as first:
            first.execute(text("SELECT 1"))
        with rows.begin() as second:
            assert second.execute(text("SELECT 1")).scalar() == 1
        assert second is first
    finally:
        rows.close()
    assert first.closed


def test_a_failed_write_gives_up_the_connection_and_the_next_opens_a_working_one(studio: Studio) -> None:
    rows = RowConnections(studio.db)
    try:
        with pytest.raises(ZeroDivisionError), rows.begin() as broken:
            broken.execute(text("UPDATE jobs SET version = version + 1"))
            _ = 1 / 0
        assert broken.closed  # not reused in whatever state the failure left it
        with rows.begin() as fresh:
            assert fresh is not broken and fresh.execute(text("SELECT 1")).scalar() == 1
    finally:
        rows.close()


def test_a_runner_goes_on_after_its_held_connection_broke(studio: Studio) -> None:
    runner = JobRunner(studio.db, studio.paths, studio.settings, "rows:1:0000")
    try:
        assert _run_noop(studio, runner) == JobStatus.COMPLETED
        with runner.rows.begin() as held:
            pass
        held.connection.driver_connection.close()  # type: ignore[union-attr]  # broken underneath
        # the claim fails on it, is tried again as after an outage, on a new connection
        assert _run_noop(studio, runner) == JobStatus.COMPLETED
        with runner.rows.begin() as now_held:
            assert now_held is not held and not now_held.invalidated
    finally:
        runner.close()


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
