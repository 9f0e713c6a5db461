"""Simple listings read straight from a solo studio's SQLite file, without SQLAlchemy.

A read verb such as `workspace list` must answer at once (issue 21), and loading SQLAlchemy and
the models alone takes longer than that. This reads with the standard library's sqlite3, and
only where the answer is certain to be the full path's: a solo profile (no database URL), its
settings read whole (the full path would print warnings first), its folders as the studio
leaves them, and a database at this build's newest migration. Anything else (team mode, no
database yet, a migration due, a locked or damaged file) gives None: the caller takes the full
path, which creates, migrates or reports exactly as it always has.

Nothing here writes: the connection is query-only, and it is opened read-write only so that
closing it tidies the WAL files as every other connection does.
"""
from __future__ import annotations

import os
import sqlite3
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from studio.engine.config import Paths, read_settings, resolve_paths
from studio.engine.db.schema_head import files_head
from studio.engine.errors import StudioError

BUSY_TIMEOUT_S = 1.0  # a longer wait belongs to the full path, which waits 30 s
_WORKSPACES = "SELECT id, name, description, created_at FROM workspaces ORDER BY name"


@dataclass(frozen=True, slots=True)
class SoloProfile:
    paths: Paths
    current_workspace: str  # the settings' choice ("" for none), which may name no workspace


@dataclass(frozen=True, slots=True)
class WorkspaceRow:
    id: uuid.UUID
    name: str
    description: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class WorkspaceListing:
    workspaces: tuple[WorkspaceRow, ...]
    current: str | None  # the workspace a verb without --workspace acts in; None when there are none


def solo_profile(data_dir: str | os.PathLike[str] | None) -> SoloProfile | None:
    """The profile ``Studio.open(data_dir)`` would open, when it is a solo one ready to be read."""
    try:
        paths = resolve_paths(data_dir)
        read = read_settings(paths.settings_file)
        ready = all(folder.is_dir() for folder in paths.folders) and \
            paths.database_file.stat().st_size > 0  # zero bytes: the full path says why
    except (OSError, StudioError):
        return None
    if read.problems or read.settings.database.url or not ready:
        return None
    return SoloProfile(paths, read.settings.general.current_workspace)


def solo_workspaces(profile: SoloProfile) -> WorkspaceListing | None:
    """The workspaces by name, as ``Studio.workspaces()`` lists them, and the current one as
    ``lookup.current_workspace_name`` picks it. Workspaces are not user content that goes to
    the trash (models.Workspace is no ``Content``), so every row is listed."""
    rows = read_rows(profile.paths, _WORKSPACES)
    if rows is None:
        return None
    try:
        found = tuple(WorkspaceRow(uuid.UUID(str(id_)), name, description, _utc(created))
                      for id_, name, description, created in rows)
    except (TypeError, ValueError):  # not what SQLAlchemy writes: let it read them
        return None
    names = [workspace.name for workspace in found]
    chosen = profile.current_workspace
    return WorkspaceListing(found, chosen if chosen in names else (names[0] if names else None))


def read_rows(paths: Paths, sql: str) -> list[tuple[Any, ...]] | None:
    """The rows of one query, read in the same snapshot as the schema's revision; None unless
    the revision is this build's newest or when SQLite says anything but the rows."""
    head = files_head()
    if not head:
        return None
    try:
        connection = sqlite3.connect(f"{paths.database_file.as_uri()}?mode=rw", uri=True,
                                     timeout=BUSY_TIMEOUT_S, isolation_level=None)
    except sqlite3.Error:
        return None
    try:
        connection.execute("PRAGMA query_only=ON")
        connection.execute("BEGIN")  # one snapshot: a migration cannot land between the reads
        if connection.execute("SELECT version_num FROM alembic_version").fetchall() != [(head,)]:
            return None
        return connection.execute(sql).fetchall()
    except sqlite3.Error:
        return None
    finally:
        connection.close()


def _utc(value: object) -> datetime:
    """A timestamp as SQLAlchemy's UTC column gives it back: aware, in UTC."""
    if not isinstance(value, str):
        raise TypeError(f"a timestamp stored as {type(value).__name__}")
    parsed = datetime.fromisoformat(value)
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
