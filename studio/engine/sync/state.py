"""What a studio remembers about one workspace's last sync, in its data folder (``sync/<id>.json``).

Per row (``table:id``): the pair of versions (local, server) seen at the last sync, and a short
digest of each field as both sides had it then. The versions say cheaply that nothing changed;
the field digests say which fields each side changed since, so edits to different fields of one
row merge and only the same field changed on both sides becomes a conflict. Open conflicts wait
here until the user settles them.
"""
from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

from studio.engine.fsutil import atomic_write_text

FIELDS = "fields"  # a conflict kind: fields of one row changed on both sides
CLASH = "clash"  # a conflict kind: two rows made separately under one name (or one file)


class SyncState:
    """Per workspace, in the data folder: versions and field digests at the last sync, conflicts."""

    def __init__(self, folder: Path, workspace_id: uuid.UUID) -> None:
        self.path = folder / f"{workspace_id}.json"
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            raw = {}
        self.rows: dict[str, list[int]] = raw.get("rows", {})
        self.bases: dict[str, dict[str, str]] = raw.get("bases", {})
        self.conflicts: dict[str, dict[str, Any]] = raw.get("conflicts", {})
        self.linked: bool = bool(raw.get("linked", False))

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(self.path, json.dumps({"linked": self.linked, "rows": self.rows,
                                                 "bases": self.bases,
                                                 "conflicts": self.conflicts}, indent=0))

    def forget(self, key: str) -> None:
        """A row gone from both sides: nothing to remember about it."""
        self.rows.pop(key, None)
        self.bases.pop(key, None)
        self.conflicts.pop(key, None)


def conflict_kind(conflict: dict[str, Any]) -> str:
    """Conflicts saved before kinds existed were all field conflicts."""
    return str(conflict.get("kind", FIELDS))
