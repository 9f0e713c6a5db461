"""Real damage done to a real SQLite file, for the tests of the database's health."""
from __future__ import annotations

import sqlite3
from pathlib import Path


def corrupt_an_index(database: Path) -> None:
    """Adds a table with an index of several pages, then overwrites cells of two index pages: the
    file still opens, and SQLite's quick_check finds the damage."""
    with sqlite3.connect(database) as db:
        db.execute("PRAGMA journal_mode=DELETE")  # everything in the main file, no log beside it
        db.execute("CREATE TABLE scratch (id INTEGER PRIMARY KEY, name TEXT)")
        db.execute("CREATE INDEX scratch_name ON scratch (name)")
        db.executemany("INSERT INTO scratch (name) VALUES (?)", [(f"name {i:05d} " * 5,) for i in range(3000)])
        page = db.execute("PRAGMA page_size").fetchone()[0]
        root = db.execute("SELECT rootpage FROM sqlite_master WHERE name = 'scratch_name'").fetchone()[0]
    db.close()
    data = bytearray(database.read_bytes())
    for number in (root + 1, root + 2):
        start = (number - 1) * page
        data[start + 100:start + 400] = b"\xff" * 300
    database.write_bytes(bytes(data))


def make_newer(database: Path, revision: str) -> None:
    with sqlite3.connect(database) as db:
        db.execute("UPDATE alembic_version SET version_num = ?", (revision,))
    db.close()
