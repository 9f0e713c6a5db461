"""The connection a worker thread writes its jobs' rows with, held from one job to the next.

A claim and an outcome are one short statement each; taking a pooled connection for each (check
out, reset on return) cost about as much as the statement. On SQLite each worker thread keeps
one connection of its own, opened outside the database's pool (NullPool: nothing counts
against the pool's limit, so the handlers' sessions never wait behind idle held connections),
and runs the statements on its driver connection (jobs/prepared.py). Any error
inside a transaction drops the thread's connection, and the next write opens a new one: none is
reused in an unknown state. On PostgreSQL every write still takes a pooled connection, checked
before use (a restarted server's are replaced): held ones would add a server connection per
worker thread on every machine, against the server's connection limit.
"""
from __future__ import annotations

import contextlib
import sqlite3
import threading
import weakref
from collections.abc import Mapping, Sequence
from typing import Any, cast

from sqlalchemy import Connection, Engine, event
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.dml import UpdateBase

from studio.engine.db.database import Database, make_engine
from studio.engine.jobs.prepared import Prepared, prepare, run_alone, run_many


class RowConnections:
    """One held connection per thread (SQLite), or one pooled connection per statement."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._engine: Engine | None = None
        if db.engine.dialect.name == "sqlite":
            self._engine = make_engine(db.engine.url.render_as_string(hide_password=False), pooled=False)
        self.opened = 0  # connections opened so far (one per thread, plus one per failure)
        self._local = threading.local()
        self._prepared: dict[UpdateBase, Prepared] = {}  # each statement compiled once
        self._open: set[Connection] = set()
        self._lock = threading.Lock()
        # Closed with this object: a runner dropped without close() leaves no file open.
        self._finalizer = weakref.finalize(self, _close_all, self._open, self._lock)

    def first(self, statement: UpdateBase, params: Mapping[str, Any]) -> tuple[Any, ...] | None:
        """Runs ``statement`` in a transaction of its own; its first row (RETURNING), if any."""
        if self._engine is None:
            return first_pooled(self.db, statement, params)
        prepared = self._prepared.get(statement)
        if prepared is None:
            prepared = self._prepared.setdefault(statement, prepare(statement, self._engine.dialect))
        connection = self._held()
        try:
            driver = connection.connection.driver_connection
            return run_alone(cast(sqlite3.Connection, driver), prepared, params, self._engine.dialect)
        except BaseException:
            self._drop(connection)
            raise

    def close(self) -> None:
        """Closes every thread's connection (when no thread writes any more); a later write
        opens a new one."""
        _close_all(self._open, self._lock)

    def _held(self) -> Connection:
        connection: Connection | None = getattr(self._local, "connection", None)
        if connection is None or connection.closed or connection.invalidated:
            assert self._engine is not None
            connection = self._engine.connect()
            self._local.connection = connection
            with self._lock:
                self._open.add(connection)
                self.opened += 1
        return connection

    def _drop(self, connection: Connection) -> None:
        self._local.connection = None
        with self._lock:
            self._open.discard(connection)
        with contextlib.suppress(Exception):  # it is being given up because something failed
            connection.close()


def first_pooled(db: Database, statement: UpdateBase, params: Mapping[str, Any]) -> tuple[Any, ...] | None:
    """``statement`` on a pooled connection, in a transaction of its own; its first row."""
    with db.engine.begin() as connection:
        row = connection.execute(statement, params).first()
    return None if row is None else tuple(row)


_POOLED_PREPARED: dict[UpdateBase, Prepared] = {}  # SQLite's, for statements run on pooled connections


def write_pooled(db: Database, statement: UpdateBase, params: Sequence[Mapping[str, Any]]) -> None:
    """``statement`` once per parameter set, in one transaction on a pooled connection (on
    SQLite straight on its driver connection, as the held ones)."""
    if db.engine.dialect.name != "sqlite":
        with db.engine.begin() as connection:
            connection.execute(statement, list(params))
        return
    prepared = _POOLED_PREPARED.get(statement)
    if prepared is None:
        prepared = _POOLED_PREPARED.setdefault(statement, prepare(statement, db.engine.dialect))
    pooled = db.engine.raw_connection()
    try:
        run_many(cast(sqlite3.Connection, pooled.driver_connection), prepared, params, db.engine.dialect)
    except DBAPIError as exc:
        if exc.connection_invalidated:
            pooled.invalidate(exc)
        raise
    finally:
        pooled.close()


class SubmitConnection:
    """The connection a process writes new job rows with (SQLite), held from one submit to the
    next: taking a pooled one (check out, reset on return) cost about a fifth of the write.

    One connection serves every thread, one write at a time (SQLite takes one writer at a time
    anyway). It is closed when the database's engine is disposed, so it never outlives the
    pool's connections to the file; an error drops it, and the next write opens a new one. On
    PostgreSQL each write takes a pooled connection (see above)."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.opened = 0  # connections opened so far (one, plus one per failure or dispose)
        self._lock = threading.Lock()
        self._connection: Connection | None = None
        self._engine: Engine | None = None
        if db.engine.dialect.name == "sqlite":
            self._engine = make_engine(db.engine.url.render_as_string(hide_password=False), pooled=False)
            event.listen(db.engine, "engine_disposed", self._disposed)

    def write(self, statement: UpdateBase, params: Sequence[Mapping[str, Any]]) -> None:
        """``statement`` once per parameter set, in one transaction."""
        if self._engine is None:
            write_pooled(self.db, statement, params)
            return
        prepared = _POOLED_PREPARED.get(statement)
        if prepared is None:
            prepared = _POOLED_PREPARED.setdefault(statement, prepare(statement, self._engine.dialect))
        with self._lock:
            if self._connection is None or self._connection.closed or self._connection.invalidated:
                self._connection = self._engine.connect()
                self.opened += 1
            try:
                driver = self._connection.connection.driver_connection
                run_many(cast(sqlite3.Connection, driver), prepared, params, self._engine.dialect)
            except BaseException:
                self._close()
                raise

    def close(self) -> None:
        with self._lock:
            self._close()

    def _disposed(self, _engine: Engine) -> None:
        self.close()

    def _close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            with contextlib.suppress(Exception):  # given up: closed, or something failed in it
                connection.close()


def _close_all(connections: set[Connection], lock: threading.Lock) -> None:
    with lock:
        held = list(connections)
        connections.clear()
    for connection in held:
        with contextlib.suppress(Exception):
            connection.close()
