"""Columns a server's answer can reach (job errors, messages, results): secrets never get stored.

The redaction sits in the column type, so it holds for every way a row is written: ORM
attributes, ``update(Job).values(...)`` and bulk inserts alike. In team mode the database is
shared by the whole team, so a key a server echoed in its error must not land there.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Text
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

from studio.engine.redact import redact, redact_value


class RedactedText(TypeDecorator[str]):
    """Text with every known or secret-shaped value replaced by ``***`` on the way in."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        return redact(value) if isinstance(value, str) else value


class RedactedJSON(TypeDecorator[Any]):
    """JSON whose strings are redacted on the way in; a key named like a secret loses its value.

    ``url_passwords=False`` keeps passwords inside URLs: for a job's payload, whose URLs are
    addresses the job must reach (the user's own ComfyUI), not text a server sent back."""

    impl = JSON(none_as_null=True)  # None is SQL NULL, as a plain JSON column leaves an unset value
    cache_ok = True

    def __init__(self, *, url_passwords: bool = True) -> None:
        super().__init__()
        self.url_passwords = url_passwords

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        return redact_value(value, url_passwords=self.url_passwords)
