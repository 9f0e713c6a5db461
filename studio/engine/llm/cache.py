"""Answers to identical chat requests, kept on this machine so asking again costs nothing.

The key is a hash of the server's base URL and the whole request body (model, fallbacks,
messages, response format, temperature, max tokens), so any change in what is asked is a miss.
A small SQLite file under the data folder's cache/ (clearing caches removes it; it is rebuilt
on the next call). It is machine-local on purpose: in team mode every member has their own,
and the shared database holds only the spend.
"""
from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import time
from contextlib import closing
from dataclasses import asdict
from pathlib import Path
from typing import Any

from studio.engine.llm.client import ChatResult

FILE_NAME = "llm_responses.sqlite3"
_SCHEMA = """CREATE TABLE IF NOT EXISTS responses (
    key TEXT PRIMARY KEY, model TEXT NOT NULL, result TEXT NOT NULL, created_at REAL NOT NULL)"""


def cache_key(base_url: str, body: dict[str, Any]) -> str:
    canonical = json.dumps({"base_url": base_url.rstrip("/"), "body": body}, sort_keys=True,
                           ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


class ResponseCache:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    @classmethod
    def in_folder(cls, cache_dir: Path) -> ResponseCache:
        return cls(cache_dir / FILE_NAME)

    def get(self, key: str) -> ChatResult | None:
        """The stored answer as a free one (cost 0, ``cached``), or None."""
        with self._lock, self._connect() as db:
            row = db.execute("SELECT result FROM responses WHERE key = ?", (key,)).fetchone()
        if row is None:
            return None
        try:
            stored = json.loads(row[0])
            result = ChatResult(**stored)
        except (ValueError, TypeError):
            self.discard(key)  # written by an older version, or damaged: ask the server again
            return None
        return ChatResult(**{**asdict(result), "cost_usd": 0.0, "cached": True})

    def put(self, key: str, result: ChatResult) -> None:
        stored = json.dumps({**asdict(result), "cached": False})
        with self._lock, self._connect() as db:
            db.execute("INSERT OR REPLACE INTO responses (key, model, result, created_at) "
                       "VALUES (?, ?, ?, ?)", (key, result.model, stored, time.time()))

    def discard(self, key: str) -> None:
        with self._lock, self._connect() as db:
            db.execute("DELETE FROM responses WHERE key = ?", (key,))

    def __len__(self) -> int:
        with self._lock, self._connect() as db:
            return int(db.execute("SELECT count(*) FROM responses").fetchone()[0])

    def _connect(self) -> closing[sqlite3.Connection]:
        # A connection per use: workers, the CLI and the app may share the file; SQLite's own
        # locking serialises the few writes, and the timeout waits out a concurrent one.
        self.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.path, timeout=10, isolation_level=None)
        db.execute(_SCHEMA)  # autocommit (isolation_level None): each statement is its own
        return closing(db)
