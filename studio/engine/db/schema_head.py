"""The newest schema this build knows, told without Alembic or SQLAlchemy.

Opening a database at its newest migration (most opens) and the command line's quick reads
(quick_read.py) compare the database's revision with this; tests/engine/db/test_migrations.py
checks it against Alembic's own head.
"""
from __future__ import annotations

from pathlib import Path

MIGRATIONS = Path(__file__).with_name("migrations")


def files_head() -> str:
    """The newest migration's revision id, read from the versions folder's file names (each
    file is named after its revision, ``0010_...``) so that opening needs no Alembic."""
    found = [path.name.split("_", 1)[0] for path in (MIGRATIONS / "versions").glob("[0-9]*_*.py")]
    return max(found, default="")  # none found (a build without the sources): Alembic decides
