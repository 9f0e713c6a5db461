"""The connection a worker thread writes its jobs' rows with, held from one job to the next.

A claim and an outcome are one short statement each; taking a pooled connection for each (check
out, reset on return) cost about as much as the statement. On SQLite each worker thread keeps
one connection of its own, opened outside the database's pool (NullPool: nothing counts against
the pool's limit, so the handlers' sessions never wait behind idle held connections). Any error
inside a transaction drops the thread's connection, and the next write opens a new one: none is
reused in an unknown state. On PostgreSQL every write still takes a pooled connection, checked
before use (a restarted server's are replaced): held ones would add a server connection per
worker thread on every machine, against the server's connection limit.
"""
from __future__ import annotations

import contextlib
import threading
import weakref
from collections.abc import Iterator

from sqlalchemy import Connection, Engine

from studio.engine.db.database import Database, make_engine


class RowConnections:
    """One held connection per thread (SQLite), or one pooled connection per write."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._engine: Engine | None = None
        if db.engine.dialect.name == "sqlite":
            self._engine = make_engine(db.engine.url.render_as_string(hide_password=False), pooled=False)
        self._local = threading.local()
        self._open: set[Connection] = set()
        self._lock = threading.Lock()
        # Closed with this object: a runner dropped without close() leaves no file open.
        self._finalizer = weakref.finalize(self, _close_all, self._open, self._lock)

    @contextlib.contextmanager
    def begin(self) -> Iterator[Connection]:
        """A connection in a transaction, committed when the block ends without error."""
        if self._engine is None:
            with self.db.engine.begin() as connection:
                yield connection
            return
        connection = self._held()
        try:
            with connection.begin():
                yield connection
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
        return connection

    def _drop(self, connection: Connection) -> None:
        self._local.connection = None
        with self._lock:
            self._open.discard(connection)
        with contextlib.suppress(Exception):  # it is being given up because something failed
            connection.close()


def _close_all(connections: set[Connection], lock: threading.Lock) -> None:
    with lock:
        held = list(connections)
        connections.clear()
    for connection in held:
        with contextlib.suppress(Exception):
            connection.close()
