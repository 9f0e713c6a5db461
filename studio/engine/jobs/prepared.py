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

import operator
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
    names: tuple[str, ...]  # the parameters given per call, each once
    binds: tuple[Converter, ...]  # their converters
    constants: tuple[Any, ...]  # values bound in the statement itself, converted once
    pick: Callable[[Sequence[Any]], tuple[Any, ...]]  # each placeholder's value, in order
    results: tuple[Converter, ...]  # one per RETURNING column

    def arguments(self, params: Mapping[str, Any]) -> tuple[Any, ...]:
        """The driver's arguments: each parameter converted once, however often it is used."""
        given = [params[name] for name in self.names]
        converted = [value if bind is None else bind(value) for value, bind in zip(given, self.binds, strict=True)]
        return self.pick(converted + list(self.constants))

    def row(self, raw: tuple[Any, ...]) -> tuple[Any, ...]:
        return tuple(value if convert is None else convert(value)
                     for value, convert in zip(raw, self.results, strict=True))


def prepare(statement: UpdateBase, dialect: Dialect) -> Prepared:
    """``statement`` (a positional-parameter dialect's, e.g. SQLite's) ready to run many times."""
    compiled = statement.compile(dialect=dialect)
    if compiled.insert_prefetch or compiled.update_prefetch:
        raise ValueError("a statement whose column defaults run in Python; give those columns")
    placeholders = tuple(compiled.positiontup or ())
    binds = {name: compiled.binds[name] for name in placeholders}
    names = tuple(name for name, bind in binds.items() if bind.required)
    fixed = tuple(name for name, bind in binds.items() if not bind.required)
    constants = tuple(_converted(binds[name].value, binds[name].type.bind_processor(dialect)) for name in fixed)
    slots = {name: index for index, name in enumerate(names + fixed)}
    results = tuple(column.type.result_processor(dialect, None) for column in statement.exported_columns)
    return Prepared(compiled.string, names, tuple(binds[name].type.bind_processor(dialect) for name in names),
                    constants, _picker([slots[name] for name in placeholders]), results)


def _converted(value: Any, bind: Converter) -> Any:
    return value if bind is None else bind(value)


def _picker(indexes: list[int]) -> Callable[[Sequence[Any]], tuple[Any, ...]]:
    """Takes the values at ``indexes`` as one tuple (itemgetter gives a lone value bare)."""
    if len(indexes) > 1:
        return operator.itemgetter(*indexes)
    return lambda values: tuple(values[index] for index in indexes)


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
        if len(arguments) == 1:  # a single job's row: execute costs less than executemany
            driver.execute(prepared.sql, arguments[0])
        else:
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
