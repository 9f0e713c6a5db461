"""A worker the app started watches that app, and exits once it is gone and its jobs are done.

The app starts its worker with ``worker --for-app TOKEN``, the token being the app's pid and
start time (``processes.start_token``), so a later process given the same pid is not taken for
it. Each beat the worker looks whether that app still runs. Once it has gone (quit, killed,
crashed, logged out) the worker finishes what runs or waits, then exits and says in a desktop
notification what finished. A worker started with ``influencerai-studio worker`` watches
nothing and runs until stopped.

An app started again while such a worker is still busy adopts it rather than starting another:
it names itself in ``run/worker-app``; the worker reads that at its next beat, watches the new
app from then on and says so in ``worker.json`` (``app``), which is how the app knows it was heard.
"""
from __future__ import annotations

import logging
import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import select

from studio.engine.db.database import Database
from studio.engine.db.models import Job
from studio.engine.db.types import utcnow
from studio.engine.fsutil import atomic_write_text
from studio.engine.jobs.status import JobStatus
from studio.engine.notify import notify
from studio.engine.processes import token_running

if TYPE_CHECKING:
    from studio.engine.worker.process import WorkerInfo

log = logging.getLogger("studio.worker")

APP_STARTED = "app"
HEADLESS = "headless"
ADOPT_FILE = "worker-app"  # in the run folder: the token of an app taking the worker over
_TOKEN = re.compile(r"[0-9]+-[0-9]+")


def valid_token(text: str) -> bool:
    """Whether ``text`` has the shape of a ``start_token`` (pid-seconds)."""
    return bool(_TOKEN.fullmatch(text))


def request_adoption(run_dir: Path, app: str) -> None:
    """Asks the running worker to watch ``app`` (an app started again) from its next beat."""
    run_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_text(run_dir / ADOPT_FILE, app)


class AppWatch:
    """The app a worker watches (None: a headless worker) and since when it has been alone."""

    def __init__(self, run_dir: Path, app: str | None) -> None:
        self.run_dir = run_dir
        self.app = app
        self.left_at: datetime | None = None  # when it first saw its app gone (or was asked to go)

    @property
    def started_by(self) -> str:
        return APP_STARTED if self.app else HEADLESS

    def adopted(self) -> bool:
        """True when an app started again has named itself since the last beat; it is the one
        watched from now on. A headless worker is never adopted."""
        path = self.run_dir / ADOPT_FILE
        if self.app is None or not path.exists():
            return False
        try:
            token = path.read_text(encoding="utf-8").strip()
        except OSError:
            return False
        path.unlink(missing_ok=True)
        if not valid_token(token) or token == self.app:
            return False
        log.info("adopted by the app started again (%s)", token)
        self.app = token
        self.left_at = None
        return True

    def left_alone(self, *, asked: bool) -> bool:
        """Whether its app has gone, or asked it to finish its jobs and exit (``asked``)."""
        gone = asked or (self.app is not None and not token_running(self.app))
        if not gone:
            self.left_at = None
        elif self.left_at is None:
            self.left_at = utcnow()
            if not asked:
                log.info("the app that started this worker has gone; it exits once no job "
                         "runs or waits")
        return gone


def announce_finished(db: Database, worker_id: str, since: datetime) -> None:
    """Tells the user what this worker finished after the app left it (nothing: no notification)."""
    with db.session() as session:
        rows = session.scalars(select(Job.status).where(Job.worker_id == worker_id,
                                                        Job.finished_at >= since)).all()
    if rows:
        failed = sum(1 for status in rows if status == JobStatus.FAILED)
        summary = f"{len(rows)} job(s) finished" + (f", {failed} failed" if failed else "")
        notify("InfluencerAI Studio", summary + ". The background worker has stopped.")


def owner_text(info: WorkerInfo) -> str:
    """Who holds the worker lock, in words: 'pid 41, started by the app, since 14:03'."""
    if not info.pid:
        return "starting"
    if info.started_by == APP_STARTED:
        who = "started by the app"
        if info.app and not token_running(info.app):
            who += " (now closed: it exits once its jobs are done)"
    else:
        who = "headless (`influencerai-studio worker`)" if info.started_by == HEADLESS else ""
    since = _since(info.started_at)
    return ", ".join(part for part in (f"pid {info.pid}", who, since) if part)


def _since(started_at: str) -> str:
    try:
        when = datetime.fromisoformat(started_at).astimezone()
    except ValueError:
        return ""
    today = datetime.now().astimezone().date()
    stamp = f"{when:%H:%M}" if when.date() == today else f"{when:%Y-%m-%d %H:%M}"
    return f"since {stamp}"


def grace_before(when: datetime, beat_s: float) -> datetime:
    """A job that ended in the beat its app left also finished 'after the app left'."""
    return when - timedelta(seconds=beat_s)
