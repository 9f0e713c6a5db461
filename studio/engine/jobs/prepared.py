"""A Core statement compiled once and run straight on a SQLite driver connection.

The claim and the outcome of every job are one small statement each. SQLAlchemy's execution of
a compiled statement (an execution context, parameter and result objects, transaction events)
cost more than SQLite's own work for them. Here the SQL text and the parameters' order come
from SQLAlchemy's compiler, once, and each value passes through its column type's own
converters (the same ones SQLAlchemy uses: UUIDs, UTC times, JSON and the secret redaction of
db/redacted.py), so the row written is the same. A driver error comes out as SQLAlchemy's own
wrapped error, as from a Connection, so outages and full disks read the same.
"""
from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.dml import UpdateBase

Converter = Callable[[Any], Any] | None


@dataclass(frozen=True, slots=True)
class Prepared:
    sql: str
    names: tuple[str, ...]  # each placeholder's parameter, in order
    fixed: Mapping[str, Any]  # values bound in the statement itself
    binds: tuple[Converter, ...]
    results: tuple[Converter, ...]  # one per RETURNING column

    def arguments(self, params: Mapping[str, Any]) -> tuple[Any, ...]:
        values = [params[name] if name in params else self.fixed[name] for name in self.names]
        return tuple(value if bind is None else bind(value)
                     for value, bind in zip(values, self.binds, strict=True))

    def row(self, raw: tuple[Any, ...]) -> tuple[Any, ...]:
        return tuple(value if convert is None else convert(value)
                     for value, convert in zip(raw, self.results, strict=True))


def prepare(statement: UpdateBase, dialect: Dialect) -> Prepared:
    """``statement`` (a positional-parameter dialect's, e.g. SQLite's) ready to run many times."""
    compiled = statement.compile(dialect=dialect)
    if compiled.insert_prefetch or compiled.update_prefetch:
        raise ValueError("a statement whose column defaults run in Python; give those columns")
    names = tuple(compiled.positiontup or ())
    params = {name: compiled.binds[name] for name in names}
    fixed = {name: bind.value for name, bind in params.items() if not bind.required}
    binds = tuple(params[name].type.bind_processor(dialect) for name in names)
    results = tuple(column.type.result_processor(dialect, None) for column in statement.exported_columns)
    return Prepared(compiled.string, names, fixed, binds, results)


def run_alone(driver: sqlite3.Connection, prepared: Prepared, params: Mapping[str, Any],
              dialect: Dialect) -> tuple[Any, ...] | None:
    """Runs ``prepared`` in a transaction of its own on ``driver``; its first row, converted."""
    arguments = prepared.arguments(params)
    with _transaction(driver, prepared.sql, arguments, dialect):
        rows = driver.execute(prepared.sql, arguments).fetchall()
    return prepared.row(rows[0]) if rows else None


def run_many(driver: sqlite3.Connection, prepared: Prepared, params: Sequence[Mapping[str, Any]],
             dialect: Dialect) -> None:
    """Runs ``prepared`` once per parameter set, all in one transaction on ``driver``."""
    arguments = [prepared.arguments(one) for one in params]
    with _transaction(driver, prepared.sql, arguments, dialect):
        driver.executemany(prepared.sql, arguments)


@contextmanager
def _transaction(driver: sqlite3.Connection, sql: str, arguments: Any, dialect: Dialect) -> Iterator[None]:
    """Commits what the block ran; a driver error rolls back and comes out as SQLAlchemy's own
    error, so outage, full-disk and integrity handling see what they always see."""
    try:
        yield
        driver.commit()
    except sqlite3.Error as exc:
        _roll_back(driver)
        raise DBAPIError.instance(sql, arguments, exc, sqlite3.Error, dialect=dialect,
                                  connection_invalidated=dialect.is_disconnect(exc, driver, None),  # type: ignore[arg-type]
                                  ) from exc


def _roll_back(driver: sqlite3.Connection) -> None:
    try:
        driver.rollback()
    except sqlite3.Error:
        pass  # a closed connection: its caller gives it up
