"""Who owns a running job, and what is left of a run that lost it.

Claiming a job sets its ``worker_id`` and bumps its ``attempts`` in one write; the pair is the
claim's token. A worker wrongly thought gone (a stale heartbeat, a record marked stopped) may
see its job re-queued and claimed again by another; when it then finishes, the row no longer
carries its token, so its outcome is not recorded: the files it made are removed and its asset
rows deleted, so one key never has two rows, and the log says so once (WARNING).
"""
from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import select, text

from studio.engine.config import Paths
from studio.engine.db.database import Database
from studio.engine.db.models import Asset, Job
from studio.engine.errors import StudioError
from studio.engine.jobs.status import JobStatus
from studio.engine.storage.local import LocalStore

log = logging.getLogger("studio.jobs")


@dataclass(frozen=True, slots=True)
class Claim:
    job_id: uuid.UUID
    worker_id: str
    attempts: int

    def holds(self, job: Job | None) -> bool:
        """Whether ``job`` (as read now) is still this claim's: running, by us, this attempt."""
        return (job is not None and job.status == JobStatus.PROCESSING
                and job.worker_id == self.worker_id and job.attempts == self.attempts)


def still_owned(db: Database, claim: Claim) -> bool:
    with db.session() as session:
        return claim.holds(session.get(Job, claim.job_id))


def discard(db: Database, paths: Paths, claim: Claim, what: str, result: object = None) -> None:
    """A stale owner's outcome: not recorded; the assets its result names are removed."""
    removed = _remove_assets(db, paths, claim.job_id, set(_uuids(result)))
    log.warning("job %s: this worker no longer owns it (another worker took it over); its %s is "
                "discarded%s", claim.job_id, what,
                f" with the {removed} file(s) it made" if removed else "")


def sees_every_workspace(db: Database) -> bool:
    """False for a role that row-level security limits (a workspace role on PostgreSQL): a job
    it cannot read may well exist. SQLite and the team's own role see every row."""
    if db.engine.dialect.name != "postgresql":
        return True
    with db.session() as session:
        return not session.scalar(text("SELECT row_security_active('jobs')"))


def _remove_assets(db: Database, paths: Paths, job_id: uuid.UUID, ids: set[uuid.UUID]) -> int:
    if not ids:
        return 0
    store = LocalStore(paths.assets_dir)
    with db.session() as session:
        rows = session.scalars(select(Asset).where(Asset.id.in_(ids), Asset.job_id == job_id)).all()
        keys = {row.storage_key for row in rows}
        for row in rows:
            session.delete(row)
        session.flush()
        still_used = set(session.scalars(select(Asset.storage_key).distinct().where(
            Asset.storage_key.in_(keys))).all())
    for key in keys - still_used:  # a key another run's row names keeps its file
        try:
            store.delete(key)
        except (OSError, StudioError) as exc:
            log.warning("a discarded output could not be removed: %s", exc)
    return len(keys)


def _uuids(value: object) -> Iterator[uuid.UUID]:
    """Every id in an encoded result (asset ids are how results name their outputs)."""
    if isinstance(value, dict):
        for item in value.values():
            yield from _uuids(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _uuids(item)
    elif isinstance(value, str) and len(value) in (32, 36):
        try:
            yield uuid.UUID(value)
        except ValueError:
            return
