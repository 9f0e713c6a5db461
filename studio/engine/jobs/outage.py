"""Riding out a database or Redis outage: wait with back-off, say so once, carry on after.

A worker must not die, nor lose the job it runs, because PostgreSQL or Redis restarted. Calls
that reach them go through ``ride_out``: a lost connection is tried again with back-off until
the server answers (pooled connections are checked before use, ``pool_pre_ping``), and the log
says it once when the outage starts (WARNING) and once when it is over (INFO), however many
threads of the process wait for it.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TypeVar

import psycopg
import redis.exceptions
from sqlalchemy.exc import DBAPIError

log = logging.getLogger("studio.worker")
DATABASE, QUEUE = "database", "queue"
FIRST_WAIT_S = 0.5
MAX_WAIT_S = 5.0
T = TypeVar("T")

_REDIS_DOWN = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)
_PG_DOWN = (psycopg.OperationalError, psycopg.InterfaceError)


def outage_of(exc: BaseException) -> str | None:
    """DATABASE or QUEUE when ``exc`` means that server cannot be reached now; None otherwise
    (a lock, a constraint, a bug: not an outage, so never waited out)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, _REDIS_DOWN):
            return QUEUE
        if isinstance(current, _PG_DOWN):
            return DATABASE
        if isinstance(current, DBAPIError) and (current.connection_invalidated
                                                or isinstance(current.orig, _PG_DOWN)):
            return DATABASE
        current = current.__cause__ or current.__context__
    return None


class Outages:
    """Which servers this process finds down now; logs each change once."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._since: dict[str, float] = {}

    def down(self, service: str, exc: BaseException) -> None:
        with self._lock:
            if service in self._since:
                return
            self._since[service] = time.monotonic()
        log.warning("the %s cannot be reached (%s); waiting for it, running jobs are kept",
                    service, _first_line(exc))

    def up(self, service: str) -> None:
        with self._lock:
            since = self._since.pop(service, None)
        if since is not None:
            log.info("the %s is reachable again after %.0f s", service, time.monotonic() - since)

    def is_down(self, service: str | None = None) -> bool:
        with self._lock:
            return bool(self._since) if service is None else service in self._since


OUTAGES = Outages()  # one per process: every thread waiting on one outage shares its log lines


def ride_out(call: Callable[[], T], *, service: str = DATABASE, outages: Outages = OUTAGES,
             stop: threading.Event | None = None) -> T:
    """``call()``, tried again with back-off (0.5 s doubling to 5 s) while its server is down.
    A ``stop`` that is set ends the wait by raising the last error."""
    wait = FIRST_WAIT_S
    waited_for = {service}
    while True:
        try:
            value = call()
        except Exception as exc:
            failed = outage_of(exc)
            if failed is None or (stop is not None and stop.is_set()):
                raise
            outages.down(failed, exc)
            waited_for.add(failed)
            if stop is not None and stop.wait(wait):
                raise
            if stop is None:
                time.sleep(wait)
            wait = min(wait * 2, MAX_WAIT_S)
            continue
        for name in waited_for:
            outages.up(name)
        return value


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


HUEY_LOGGERS = ("huey", "huey.consumer", "huey.consumer.Worker", "huey.consumer.Scheduler")


class _HueyOutageFilter(logging.Filter):
    """Huey's consumer threads survive a Redis outage on their own (each poll's error is caught
    and the thread sleeps), but log a traceback on every poll; here that becomes the one line
    OUTAGES writes."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if exc is None or (service := outage_of(exc)) is None:
            return True
        OUTAGES.down(service, exc)
        return False


def quiet_huey_outages() -> None:
    """Installs the filter once (a worker calls it when it starts)."""
    for name in HUEY_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, _HueyOutageFilter) for f in logger.filters):
            logger.addFilter(_HueyOutageFilter())


def note_outage(exc: BaseException) -> bool:
    """True (and said once) when ``exc`` is an outage a best-effort write may skip."""
    service = outage_of(exc)
    if service is not None:
        OUTAGES.down(service, exc)
    return service is not None
