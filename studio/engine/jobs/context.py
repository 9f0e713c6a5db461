"""What a running job's handler gets: its payload, places to write, progress and cancel checks."""
from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, select, update

from studio.engine.config import Paths, Settings
from studio.engine.db.database import Database
from studio.engine.db.models import Job
from studio.engine.db.types import utcnow
from studio.engine.jobs.errors import JobCanceled
from studio.engine.jobs.outage import note_outage
from studio.engine.jobs.ownership import Claim

PROGRESS_INTERVAL_S = 0.25
CANCEL_CHECK_INTERVAL_S = 0.5


@dataclass(slots=True)
class JobContext:
    job_id: uuid.UUID
    workspace_id: uuid.UUID
    payload: dict[str, Any]
    db: Database
    paths: Paths
    settings: Settings
    # The worker's claim (jobs/ownership.py): once another worker has taken the job over, this
    # run writes no progress and counts as canceled, so it stops instead of running on for nothing.
    claim: Claim | None = None
    _last_write: float = 0.0
    _last_check: float = 0.0
    _stage: str = ""
    _canceled: bool = field(default=False)

    def progress(self, fraction: float, *, stage: str | None = None, message: str = "") -> None:
        """Records progress on the job row, at most a few times a second (stage changes always)."""
        now = time.monotonic()
        fraction = min(max(fraction, 0.0), 1.0)
        stage_changed = stage is not None and stage != self._stage
        if not stage_changed and fraction < 1.0 and now - self._last_write < PROGRESS_INTERVAL_S:
            return
        self._last_write = now
        if stage is not None:
            self._stage = stage
        # One UPDATE, not read-then-write: a cancel or another writer in between must not make
        # this write stale (it would end the job with a version conflict). Progress is best
        # effort: while the database is down the job runs on and the next write catches up.
        # The same statement reads back whether a cancel was asked: no second query.
        try:
            with self.db.session() as session:
                row = session.execute(update(Job).where(Job.id == self.job_id, *self._owned())
                                      .values(progress=fraction, stage=self._stage, message=message,
                                              version=Job.version + 1, updated_at=utcnow())
                                      .returning(Job.cancel_requested)).first()
                # a row no longer this run's (its claim taken over) counts as canceled
                self._canceled = bool(row[0]) if row is not None else self.claim is not None
        except Exception as exc:
            if not note_outage(exc):
                raise

    def is_canceled(self) -> bool:
        """Whether the user asked to cancel; cheap to call often (the row is read twice a second
        at most). For callbacks that want a yes or no, such as a client's ``cancel=``."""
        now = time.monotonic()
        if not self._canceled and now - self._last_check >= CANCEL_CHECK_INTERVAL_S:
            self._last_check = now
            try:
                with self.db.session() as session:
                    row = session.execute(select(Job.cancel_requested).where(
                        Job.id == self.job_id, *self._owned())).first()
                    self._canceled = bool(row[0]) if row else self.claim is not None
            except Exception as exc:  # the database is down: asked again at the next check
                if not note_outage(exc):
                    raise
        return self._canceled

    def _owned(self) -> tuple[ColumnElement[bool], ...]:
        """The conditions under which the job row is still this run's."""
        if self.claim is None:
            return ()
        return (Job.worker_id == self.claim.worker_id, Job.attempts == self.claim.attempts)

    def check_canceled(self) -> None:
        """Raises JobCanceled when the user asked to cancel; cheap to call often."""
        if self.is_canceled():
            raise JobCanceled("Canceled by the user.")
