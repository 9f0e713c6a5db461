"""Printing: aligned tables for people, JSON for scripts (UUIDs and datetimes as strings)."""
from __future__ import annotations

import dataclasses
import json
import sys
import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any


def jsonable(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [jsonable(v) for v in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return jsonable(dataclasses.asdict(value))
    if isinstance(value, (uuid.UUID, Path)):
        return str(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return value


def print_json(value: Any) -> None:
    print(json.dumps(jsonable(value), indent=2, ensure_ascii=False))


def fields_of(record: Any, names: Iterable[str]) -> dict[str, Any]:
    return {name: getattr(record, name) for name in names}


def text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.astimezone().strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, (list, tuple)):
        return ", ".join(text(v) for v in value)
    return str(value)


def print_table(headers: Sequence[str], rows: Sequence[Sequence[Any]], *, empty: str = "nothing") -> None:
    if not rows:
        print(f"({empty})")
        return
    cells = [[text(c) for c in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(headers)]
    print("  ".join(h.upper().ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip())
    for row in cells:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())


def print_fields(values: Mapping[str, Any]) -> None:
    width = max((len(k) for k in values), default=0)
    for key, value in values.items():
        print(f"{key.ljust(width)}  {text(value)}")


def note(message: str) -> None:
    """Progress and remarks go to stderr, so stdout stays clean for pipes and --json."""
    print(message, file=sys.stderr, flush=True)
