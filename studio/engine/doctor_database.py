"""The doctor's database line: there, sound (SQLite's quick_check), not empty where records should
be, and at the schema this build knows. Reads only; never creates or upgrades anything."""
from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from studio.engine.core import Studio
from studio.engine.db.database import current_revision, head_revision, make_engine, revision_known
from studio.engine.db.health import (
    RESTORE,
    database_problem,
    empty_over_assets,
    empty_words,
    error_line,
    newer_words,
    quick_check,
)
from studio.engine.errors import DiskError
from studio.engine.tools import first_line

OK, MISSING, PROBLEM = "ok", "missing", "problem"  # as studio.engine.doctor names them
Outcome = tuple[str, str, str]


def check_database(studio: Studio) -> Outcome:
    url = make_url(studio.database_url)
    shown = url.render_as_string(hide_password=True)
    sqlite_file = Path(url.database) if url.get_backend_name() == "sqlite" and url.database else None
    if sqlite_file is not None:
        if not sqlite_file.exists():
            return (MISSING, f"SQLite {sqlite_file} does not exist yet",
                    "Start the app or run any command that uses data once; it creates the database.")
        count = empty_over_assets(sqlite_file, studio.paths.assets_dir)
        if count is not None:
            return PROBLEM, empty_words(sqlite_file, studio.paths.assets_dir, count), RESTORE
    engine = make_engine(studio.database_url)
    try:
        return _examine(engine, sqlite_file, shown)
    except Exception as exc:
        plain = database_problem(exc, engine)
        if isinstance(plain, DiskError):
            return PROBLEM, str(plain), "Make the data folder writable, or free some space on its disk."
        if plain is not None:
            place = f"SQLite {sqlite_file}" if sqlite_file else shown
            return PROBLEM, f"{place} is damaged: {error_line(exc)}", RESTORE
        return (PROBLEM, f"{shown} cannot be opened: {first_line(str(exc), 'no output')}",
                "Check database.url in Settings and that the database server runs.")
    finally:
        engine.dispose()


def _examine(engine: Engine, sqlite_file: Path | None, shown: str) -> Outcome:
    where = f"SQLite {sqlite_file} ({_size(sqlite_file.stat().st_size)})" if sqlite_file else shown
    if sqlite_file is not None:
        problems = quick_check(engine)
        if problems:
            more = f" (and {len(problems) - 1} more problem(s))" if len(problems) > 1 else ""
            return PROBLEM, f"{where} is damaged: quick_check says {problems[0]}{more}", RESTORE
    current = current_revision(engine)
    head = head_revision()
    if current is None:
        return (MISSING, f"{where} has no schema yet",
                "Start the app or run any command that uses data once; it creates the schema.")
    if not revision_known(current):
        return (PROBLEM, f"{where} was {newer_words(current)}",
                f"Update the studio: this version knows schemas up to {head}.")
    if current != head:
        return (PROBLEM, f"{where} is at schema {current}, this version expects {head}",
                "Start the app once to upgrade the database, or update the studio if it is newer.")
    quick = ", quick_check ok" if sqlite_file is not None else ""
    return OK, f"{where}, schema {current} (up to date){quick}", ""


def _size(size: int) -> str:
    value = float(size)
    for unit in ("B", "KB", "MB"):
        if value < 1024:
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GB"
