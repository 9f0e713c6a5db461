"""The job row's writes on every job's way: one INSERT on submit, one claim, one outcome.

A no-op job costs little more than these writes, so each is one statement built once
(SQLAlchemy Core on the jobs table; only the parameters change per call) in a transaction of its
own, without an ORM session that would read the row first and track it; on SQLite they run
straight on the driver connection (jobs/prepared.py, jobs/row_connections.py). The claim and the
outcome are conditional UPDATEs: the claim takes a waiting job and returns what the run needs,
the outcome lands only while the row still carries the claim (jobs/ownership.py), each bumping
the version. Every write announces the job to this process's listeners (the job hub reads it at
once); job rows never go to the change log (db/changes.py), so nothing else is written.
"""
from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NoReturn, cast

from sqlalchemy import (
    ColumnClause,
    Table,
    bindparam,
    exists,
    false,
    func,
    insert,
    literal_column,
    null,
    or_,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import class_mapper, make_transient_to_detached
from sqlalchemy.sql.dml import UpdateBase

from studio.engine.db.changes import Change, Entity, Op
from studio.engine.db.database import Database
from studio.engine.db.health import database_problem
from studio.engine.db.models import Job
from studio.engine.db.types import utcnow
from studio.engine.errors import InvalidInput
from studio.engine.jobs.ownership import Claim
from studio.engine.jobs.queues import RETRIES
from studio.engine.jobs.row_connections import RowConnections, SubmitConnection, first_pooled, write_pooled
from studio.engine.jobs.status import JobStatus

RETRY_STAGE = "Waiting to retry"
JOBS = cast(Table, Job.__table__)  # the mapped class's table; Core statements name it
_NOW = bindparam("now", type_=JOBS.c.updated_at.type)
_MINE = JOBS.c.id == bindparam("job_id", type_=JOBS.c.id.type)
_BUMP = {"version": JOBS.c.version + 1, "updated_at": _NOW}

# The studio's own fixed words are written as SQL text: no secret can be in them, and binding
# them would run the secret redaction of the message column (db/redacted.py) on every job.
_RUNNING: ColumnClause[str] = literal_column("'Running.'")
_DONE: ColumnClause[str] = literal_column("'Done.'")
_NO_TEXT: ColumnClause[str] = literal_column("''")
# A waiting job's columns that are the same for every job are part of the statement, not
# parameters converted (and redacted) on every submit; new_row gives the same values.
_GIVEN = ("id", "workspace_id", "type", "queue", "priority", "title", "payload", "task_id",
          "created_at", "updated_at")  # what the INSERT takes per job
_INSERT = insert(JOBS).values(
    status=literal_column(f"'{JobStatus.PENDING.value}'"), result=null(), progress=literal_column("0.0"),
    stage=_NO_TEXT, message=_NO_TEXT, error=_NO_TEXT, cost_usd=literal_column("0.0"),
    attempts=literal_column("0"), max_attempts=literal_column(str(RETRIES + 1)), cancel_requested=false(),
    worker_id=null(), started_at=null(), finished_at=null(), next_attempt_at=null(), parent_id=null(),
    version=literal_column("1"), **{name: bindparam(name) for name in _GIVEN})
_WAITING = (_MINE, JOBS.c.status == JobStatus.PENDING)
_CLAIM = (update(JOBS).where(*_WAITING)
          .values(status=JobStatus.PROCESSING, worker_id=bindparam("worker_id"),
                  attempts=JOBS.c.attempts + 1, started_at=func.coalesce(JOBS.c.started_at, _NOW),
                  next_attempt_at=None, message=_RUNNING, error=_NO_TEXT, **_BUMP)
          .returning(JOBS.c.workspace_id, JOBS.c.type, JOBS.c.payload, JOBS.c.attempts,
                     JOBS.c.max_attempts, JOBS.c.stage))
# A queue message claims its job only while the row names it (or names none): a message replaced
# since (jobs retry, a reorder, recovery) or revoked on a cancel finds the row not waiting for it,
# so the queue need not look up a revoke record before every run.
_THIS_MESSAGE = or_(JOBS.c.task_id.is_(None),
                    JOBS.c.task_id == bindparam("message_task", type_=JOBS.c.task_id.type))
_CLAIM_MESSAGE = _CLAIM.where(_THIS_MESSAGE)
_RETRYING = (update(JOBS).where(_MINE).values(stage=bindparam("stage"), progress=0.0, **_BUMP)
             .returning(JOBS.c.workspace_id))
_HELD = (_MINE, JOBS.c.status == JobStatus.PROCESSING,
         JOBS.c.worker_id == bindparam("claim_worker"), JOBS.c.attempts == bindparam("claim_attempts"))
_OUTCOME = {"status": bindparam("new_status"), "error": bindparam("new_error"),
            "message": bindparam("new_message"), "finished_at": _NOW, "cancel_requested": False}
_FINISH = update(JOBS).where(*_HELD).values(**_OUTCOME, **_BUMP).returning(JOBS.c.workspace_id)
_FINISH_WITH_RESULT = (update(JOBS).where(*_HELD)
                       .values(**_OUTCOME, result=bindparam("new_result"), progress=1.0, **_BUMP)
                       .returning(JOBS.c.workspace_id))
_COMPLETE = (update(JOBS).where(*_HELD)
             .values(status=JobStatus.COMPLETED, error=_NO_TEXT, message=_DONE, finished_at=_NOW,
                     cancel_requested=False, result=bindparam("new_result"), progress=1.0, **_BUMP)
             .returning(JOBS.c.workspace_id))
_EXISTS = select(exists().where(_MINE))


@dataclass(frozen=True, slots=True)
class Claimed:
    """What a claim read back: all a run needs, with no other read."""
    workspace_id: uuid.UUID
    job_type: str
    payload: dict[str, Any]
    claim: Claim
    max_attempts: int


def new_row(workspace_id: uuid.UUID, job_id: uuid.UUID, job_type: str, queue: str,
            payload: dict[str, Any], *, title: str, priority: int, task_id: str,
            now: datetime) -> dict[str, Any]:
    """Every column of a waiting job (what the ORM would fill in), so that the row written and
    the Job handed back agree without reading it again."""
    return {"id": job_id, "workspace_id": workspace_id, "type": job_type, "queue": queue,
            "status": JobStatus.PENDING, "priority": priority, "title": title, "payload": payload,
            "result": None, "progress": 0.0, "stage": "", "message": "", "error": "", "cost_usd": 0.0,
            "attempts": 0, "max_attempts": RETRIES + 1, "cancel_requested": False,
            "task_id": task_id, "worker_id": None, "started_at": None, "finished_at": None,
            "next_attempt_at": None, "parent_id": None, "created_at": now, "updated_at": now,
            "version": 1}


def detached_job(row: Mapping[str, Any]) -> Job:
    """The Job a row written by ``insert_jobs`` stands for, as a session would hand it back: its
    values set as a load sets them (not attribute by attribute, as the constructor does)."""
    job: Job = class_mapper(Job).class_manager.new_instance()
    job.__dict__.update(row)
    make_transient_to_detached(job)
    return job


def insert_jobs(db: Database, workspace_id: uuid.UUID, rows: Sequence[Mapping[str, Any]],
                connection: SubmitConnection | None = None) -> None:
    """New job rows (every column given), all in one transaction (on ``connection``, if given)."""
    params = [{name: row[name] for name in _GIVEN} for row in rows]
    try:
        if connection is not None:
            connection.write(_INSERT, params)
        else:
            write_pooled(db, _INSERT, params)
    except IntegrityError as exc:  # the workspace went away meanwhile
        detail = str(exc.orig).splitlines()[0] if exc.orig else "constraint failed"
        raise InvalidInput(f"This job refers to something that does not exist ({detail}).") from exc
    except SQLAlchemyError as exc:
        _raise_plain(db, exc)
    db.changes.publish([Change(Entity.JOB, workspace_id, frozenset(row["id"] for row in rows), Op.CREATED)])


def claim(db: Database, job_id: uuid.UUID, worker_id: str, rows: RowConnections | None = None, *,
          task_id: str | None = None) -> Claimed | None:
    """Takes a waiting job for ``worker_id`` (a new attempt); None when it is not waiting, or
    not for the queue message ``task_id`` (None: whichever message)."""
    params = {"job_id": job_id, "worker_id": worker_id, "now": utcnow(), "message_task": task_id}
    row = _alone(db, rows, _CLAIM if task_id is None else _CLAIM_MESSAGE, params, job_id)
    if row is None:
        return None
    workspace_id, job_type, payload, attempts, max_attempts, stage = row
    if stage == RETRY_STAGE:  # the wait is over; the handler names its own stages
        _alone(db, rows, _RETRYING, {"job_id": job_id, "now": utcnow(), "stage":
                                     f"Retrying (attempt {attempts} of {max_attempts})"}, job_id)
    return Claimed(workspace_id, job_type, dict(payload or {}), Claim(job_id, worker_id, attempts),
                   max_attempts)


def record_outcome(db: Database, held: Claim, status: JobStatus, *, error: str, message: str,
                   result: dict[str, object] | None, rows: RowConnections | None = None) -> bool:
    """Ends the job while the row still carries ``held``; False when another worker owns it now.
    A row deleted meanwhile has nothing to record (True)."""
    params: dict[str, Any] = {"job_id": held.job_id, "claim_worker": held.worker_id,
                              "claim_attempts": held.attempts, "new_status": status,
                              "new_error": error, "new_message": message, "now": utcnow()}
    statement = _FINISH
    if result is not None:
        statement, params["new_result"] = _FINISH_WITH_RESULT, result
        if (status, error, message) == (JobStatus.COMPLETED, "", "Done."):  # nearly every job
            statement = _COMPLETE
    if _alone(db, rows, statement, params, held.job_id) is not None:
        return True
    return not job_exists(db, held.job_id)


def _alone(db: Database, rows: RowConnections | None, statement: UpdateBase, params: dict[str, Any],
           job_id: uuid.UUID) -> tuple[Any, ...] | None:
    """One UPDATE of a job row in a transaction of its own (on ``rows``' connection for this
    thread, if given); the row it returned, whose first column names the workspace that hears
    of it. A full or read-only disk or a damaged file comes out as one plain StudioError."""
    try:
        row = rows.first(statement, params) if rows is not None else first_pooled(db, statement, params)
    except SQLAlchemyError as exc:
        _raise_plain(db, exc)
    if row is not None:
        db.changes.publish([Change(Entity.JOB, row[0], frozenset([job_id]), Op.UPDATED)])
    return row


def _raise_plain(db: Database, exc: SQLAlchemyError) -> NoReturn:
    """A full or read-only disk or a damaged file as one plain StudioError; others as they are."""
    problem = database_problem(exc, db.engine)
    if problem is None:
        raise exc
    raise problem from exc


def job_exists(db: Database, job_id: uuid.UUID) -> bool:
    with db.engine.connect() as connection:
        return bool(connection.execute(_EXISTS, {"job_id": job_id}).scalar())
