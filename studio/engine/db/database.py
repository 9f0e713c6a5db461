"""Engine and session factory; SQLite in WAL mode with foreign keys, or PostgreSQL; migrations."""
from __future__ import annotations

import contextlib
import logging
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from filelock import FileLock
from sqlalchemy import Connection, CursorResult, Engine, Result, create_engine, event, inspect, text
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError
from sqlalchemy.pool import NullPool

from studio.engine.db.changes import Change, ChangeBus, announce, new_origin, track_changes
from studio.engine.db.health import database_problem, known_revisions, too_new_message, where
from studio.engine.db.schema_head import MIGRATIONS as MIGRATIONS  # where Alembic finds them
from studio.engine.db.schema_head import files_head as files_head  # tests read it here too
from studio.engine.disk_errors import disk_error
from studio.engine.errors import DatabaseProblem, ServiceUnavailable, StudioError

if TYPE_CHECKING:
    from alembic.config import Config

log = logging.getLogger("studio.db")
CONNECT_TIMEOUT_S = 10
_PG_MIGRATION_LOCK = 0x5_7_0_d_1_0  # any constant; serialises migrations across studios


def sqlite_url(path: Path) -> str:
    return f"sqlite+pysqlite:///{path}"


def make_engine(url: str, *, pooled: bool = True) -> Engine:
    """``pooled=False`` (SQLite only): each connect opens the file, for a caller that holds its
    connections itself (jobs/row_connections.py), outside the pool's limit."""
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False},
                               poolclass=None if pooled else NullPool)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    # A pooled connection is checked before use (a restarted server's are replaced), and a
    # server that does not answer fails a connect in seconds: workers wait out outages by
    # trying again (jobs/outage.py), which needs each try to end.
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5,
                         connect_args={"connect_timeout": CONNECT_TIMEOUT_S})


def _sqlite_pragmas(dbapi_connection: sqlite3.Connection, _record: object) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def alembic_config(engine: Engine) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False))
    return config


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(_bare_config())
    return str(script.get_current_head())


def revision_known(revision: str) -> bool:
    """Whether this build has the migration ``revision`` (a newer studio's is unknown here)."""
    from alembic.script import ScriptDirectory

    return revision in known_revisions(ScriptDirectory.from_config(_bare_config()))


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def migrate(engine: Engine, *, revision: str = "head", lock_dir: Path | None = None) -> None:
    """Brings the schema to ``revision``; safe when the app and a worker start at once."""
    lock = FileLock(str(lock_dir / "migrate.lock")) if lock_dir else contextlib.nullcontext()
    try:
        with lock:
            if revision == "head" and _at_head(engine):  # most opens: Alembic is not even loaded
                return
            with engine.begin() as connection:
                _upgrade(engine, connection, revision)
    except OSError as exc:  # the lock file in a read-only or full data folder
        disk = disk_error(exc, lock_dir.parent if lock_dir else None)
        if disk is None:
            raise
        raise disk from exc
    except SQLAlchemyError as exc:
        problem = database_problem(exc, engine)
        if problem is not None:
            raise problem from exc
        if isinstance(exc, OperationalError):
            raise ServiceUnavailable(f"The database cannot be reached: {_first_line(exc)}") from exc
        raise StudioError(f"The database could not be upgraded: {_first_line(exc)}") from exc


def _at_head(engine: Engine) -> bool:
    """Whether the schema is already at this build's newest migration (a plain query)."""
    with engine.connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return False
        versions = connection.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    return list(versions) == [files_head()]


def _upgrade(engine: Engine, connection: Connection, revision: str) -> None:
    from alembic import command
    from alembic.runtime.migration import MigrationContext

    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_MIGRATION_LOCK})
    before = MigrationContext.configure(connection).get_current_revision()
    config = alembic_config(engine)
    if before is not None and not revision_known(before):
        raise DatabaseProblem(too_new_message(where(engine), before))
    config.attributes["connection"] = connection
    command.upgrade(config, revision)
    after = MigrationContext.configure(connection).get_current_revision()
    if before != after and connection.dialect.name == "postgresql":
        _secure_workspace_tables(connection)
    if before != after:
        log.info("database upgraded from %s to %s", before or "empty", after,
                 extra={"fields": {"database": engine.url.render_as_string(hide_password=True)}})


def _secure_workspace_tables(connection: Connection) -> None:
    """Row-level security (migration 0005) covers tables that later migrations added too."""
    if connection.execute(text("SELECT to_regproc('studio_secure_workspace_tables')")).scalar():
        connection.execute(text("SELECT studio_secure_workspace_tables()"))


@dataclass(slots=True)
class Database:
    engine: Engine
    sessions: sessionmaker[Session]
    changes: ChangeBus = field(default_factory=ChangeBus)  # what this process's writes changed
    origin: str = field(default_factory=new_origin)  # names them in the change log

    def __post_init__(self) -> None:
        track_changes(self.sessions, self.changes, self.origin)

    @classmethod
    def open(cls, url: str, *, lock_dir: Path | None = None, upgrade: bool = True) -> Database:
        engine = make_engine(url)
        if upgrade:
            migrate(engine, lock_dir=lock_dir)
        return cls(engine=engine, sessions=sessionmaker(engine, expire_on_commit=False))

    def announce(self, session: Session, changes: Iterable[Change]) -> None:
        """Writes that bypass the ORM (bulk copies) announce what they changed this way."""
        announce(session, changes, self.origin)

    @contextlib.contextmanager
    def session(self) -> Iterator[Session]:
        """A unit of work: committed on success, rolled back on any error. A read-only or full
        disk, or a damaged file, comes out as one plain StudioError."""
        try:
            with self.sessions() as session:
                try:
                    yield session
                    session.commit()
                except BaseException:
                    session.rollback()
                    raise
        except SQLAlchemyError as exc:
            problem = database_problem(exc, self.engine)
            if problem is None:
                raise
            raise problem from exc

    def dispose(self) -> None:
        self.engine.dispose()


def _bare_config() -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def _first_line(exc: BaseException) -> str:
    text_ = str(getattr(exc, "orig", None) or exc)
    return text_.strip().splitlines()[0] if text_.strip() else type(exc).__name__


STALE_TRIES = 5
T = TypeVar("T")


def retry_if_stale(write: Callable[[], T]) -> T:
    """Runs a read-then-write unit again when another writer changed the row in between (the
    version check refused it): for the job row, which a worker and the user both write."""
    for attempt in range(STALE_TRIES):
        try:
            return write()
        except StaleDataError:
            if attempt == STALE_TRIES - 1:
                raise
            time.sleep(0.02 * (attempt + 1))
    raise AssertionError("unreachable")


def rows_changed(result: Result[*tuple[Any, ...]]) -> int:
    """How many rows an UPDATE or DELETE run through Session.execute touched: its result is a
    CursorResult, but Session.execute is typed to return any Result."""
    if not isinstance(result, CursorResult):
        raise TypeError(f"{type(result).__name__} is not the result of an UPDATE or DELETE.")
    return result.rowcount
