"""Printing: aligned tables for people, JSON for scripts (UUIDs and datetimes as strings).

Everything printed goes through ``shown`` (or ``print_json``): secrets are redacted, and text a
user or a file chose (names, file names, captions, a server's error) cannot move the cursor,
change colours or start a forged line, because control characters are printed escaped.
"""
from __future__ import annotations

import dataclasses
import json
import re
import sys
import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

from studio.engine.redact import redact, redact_value

# C0 and C1 controls, DEL, line and paragraph separators, and the bidirectional overrides that
# make a terminal show text in another order than it is ("Trojan source").
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
# What json.dumps(ensure_ascii=False) leaves raw; inside a JSON string \uXXXX means the same.
_UNSAFE_IN_JSON = re.compile("[\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


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
    """JSON stays JSON: secrets redacted in its strings, terminal controls written as \\uXXXX."""
    dumped = json.dumps(redact_value(jsonable(value)), indent=2, ensure_ascii=False)
    print(_UNSAFE_IN_JSON.sub(lambda m: f"\\u{ord(m.group()):04x}", dumped))


def escaped(value: str) -> str:
    """``value`` with every control character visible as an escape (``\\n``, ``\\x1b``, ``\\u202e``)."""
    return _UNSAFE.sub(_escape, value)


def shown(value: Any) -> str:
    """How any value, user-chosen or from a server, is printed: one line, redacted, escaped."""
    return escaped(redact(text(value)))


def say(message: str) -> None:
    """A line on stdout; its parts may be names a user chose, so it is passed through ``shown``."""
    print(shown(message))


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


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
    cells = [[shown(c) for c in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(headers)]
    print("  ".join(h.upper().ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip())
    for row in cells:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())


def print_fields(values: Mapping[str, Any]) -> None:
    width = max((len(k) for k in values), default=0)
    for key, value in values.items():
        print(f"{key.ljust(width)}  {shown(value)}")


class UploadNotes:
    """Upload progress on stderr: a line when a file starts and at each tenth of the bytes."""

    def __init__(self) -> None:
        self._last: tuple[str, int] = ("", -1)

    def __call__(self, message: str, fraction: float) -> None:
        step = int(fraction * 10)
        if (message, step) != self._last:
            self._last = (message, step)
            note(f"{message}: {step * 10}%")


def note(message: str) -> None:
    """Progress and remarks go to stderr, so stdout stays clean for pipes and --json."""
    print(shown(message), file=sys.stderr, flush=True)
