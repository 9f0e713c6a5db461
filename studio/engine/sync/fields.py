"""Per-field merging of one row changed on both sides since the last sync.

Each side's changed fields are found against the digests remembered at the last sync
(``SyncState.bases``). A field changed on one side only goes to the other side; a field changed
on both sides to different values is a conflict, left as each side has it until the user
chooses; a field changed on both sides to the same value is simply in step.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from studio.engine.sync.logs import DERIVED_FIELDS
from studio.engine.sync.rows import content, plain


@dataclass(frozen=True, slots=True)
class FieldMerge:
    to_local: dict[str, Any]  # fields the server changed, to write here
    to_server: dict[str, Any]  # fields this studio changed, to write there
    conflicts: tuple[str, ...]  # fields changed on both sides to different values


def digest(value: Any) -> str:
    """Short and stable across databases (SQLite and PostgreSQL give the same plain values)."""
    text = json.dumps(plain(value), sort_keys=True, default=str)
    return hashlib.blake2b(text.encode("utf-8"), digest_size=6).hexdigest()


def fields(row: dict[str, Any]) -> dict[str, Any]:
    """What is compared: the row's content, less what sync derives (a log's order)."""
    return {k: v for k, v in content(row).items() if k not in DERIVED_FIELDS}


def digests(row: dict[str, Any]) -> dict[str, str]:
    return {name: digest(value) for name, value in fields(row).items()}


def changed_fields(row: dict[str, Any], base: dict[str, str]) -> set[str]:
    return {name for name, value in fields(row).items() if base.get(name) != digest(value)}


def differing(mine: dict[str, Any], theirs: dict[str, Any]) -> set[str]:
    return {name for name in fields(mine) if digest(mine[name]) != digest(theirs.get(name))}


def merge(mine: dict[str, Any], theirs: dict[str, Any], *, mine_changed: set[str],
          theirs_changed: set[str]) -> FieldMerge:
    apart = differing(mine, theirs)
    clash = mine_changed & theirs_changed & apart
    return FieldMerge(
        to_local={name: theirs[name] for name in sorted((theirs_changed - clash) & apart)},
        to_server={name: mine[name] for name in sorted((mine_changed - clash) & apart)},
        conflicts=tuple(sorted(clash)))


def next_base(old: dict[str, str] | None, merged: dict[str, Any],
              conflicts: tuple[str, ...]) -> dict[str, str]:
    """Merged fields are in step now; a conflicting field keeps its old base, so it stays a
    conflict at every sync until the user settles it."""
    base = digests(merged)
    for name in conflicts:
        base[name] = (old or {}).get(name, "")
    return base


def stamped(row: dict[str, Any], changes: dict[str, Any], other: dict[str, Any]) -> dict[str, Any]:
    """``row`` with the other side's changed fields, stamped with the later of both edit times."""
    merged = {**row, **changes}
    if row.get("updated_at") is not None and other.get("updated_at") is not None:
        merged["updated_at"] = max(row["updated_at"], other["updated_at"])
    return merged
