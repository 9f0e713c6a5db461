"""API bearer tokens: made once and shown once, only their SHA-256 kept, each scoped to one
workspace and optionally read-only. A token is 32 random bytes, URL-safe, prefixed ``isk_`` so
a leaked one is recognisable in logs and by secret scanners."""
from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from studio.engine.db.database import Database
from studio.engine.db.models import ApiToken
from studio.engine.db.types import utcnow
from studio.engine.errors import Conflict, InvalidInput, NotFound

PREFIX = "isk_"
NAME_LIMIT = 80
USE_RESOLUTION = timedelta(minutes=1)  # how exactly a token's last use is recorded


@dataclass(frozen=True, slots=True)
class TokenInfo:
    name: str
    workspace_id: uuid.UUID
    read_only: bool
    created_at: datetime
    last_used_at: datetime | None
    revoked: bool


@dataclass(frozen=True, slots=True)
class Caller:
    """Who a request comes from: a live token's workspace and rights."""

    workspace_id: uuid.UUID
    token_name: str
    read_only: bool


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(db: Database, workspace_id: uuid.UUID, name: str, *, read_only: bool = False) -> str:
    """The new token, in clear, for the one time it is shown; the database keeps its hash."""
    name = name.strip()
    if not name or len(name) > NAME_LIMIT or not name.isprintable():
        raise InvalidInput(f"A token's name is 1 to {NAME_LIMIT} printable characters.")
    token = PREFIX + secrets.token_urlsafe(32)
    with db.session() as session:
        taken = session.scalar(select(ApiToken).where(ApiToken.workspace_id == workspace_id,
                                                      ApiToken.name == name))
        if taken is not None:
            raise Conflict(f"A token named '{name}' exists; revoke it first or pick another name.")
        session.add(ApiToken(workspace_id=workspace_id, name=name, token_hash=token_hash(token),
                             read_only=read_only))
    return token


def list_tokens(db: Database, workspace_id: uuid.UUID) -> list[TokenInfo]:
    with db.session() as session:
        rows = session.scalars(select(ApiToken).where(ApiToken.workspace_id == workspace_id)
                               .order_by(ApiToken.created_at)).all()
        return [TokenInfo(r.name, r.workspace_id, r.read_only, r.created_at, r.last_used_at,
                          r.revoked_at is not None) for r in rows]


def revoke_token(db: Database, workspace_id: uuid.UUID, name: str) -> None:
    """Deletes the token: a revoked token is unknown from then on (the name can be reused)."""
    with db.session() as session:
        row = session.scalar(select(ApiToken).where(ApiToken.workspace_id == workspace_id,
                                                    ApiToken.name == name))
        if row is None:
            raise NotFound(f"No API token named '{name}' in this workspace.")
        session.delete(row)


def verify_token(db: Database, token: str) -> Caller | None:
    """The caller a presented token stands for, or None (unknown, revoked or malformed)."""
    if not token.startswith(PREFIX) or len(token) > 200:
        return None
    with db.session() as session:
        row = session.scalar(select(ApiToken).where(ApiToken.token_hash == token_hash(token)))
        if row is None or row.revoked_at is not None:
            return None
        now = utcnow()
        # Written at most once a minute: a busy client must not make every request a write.
        if row.last_used_at is None or now - _aware(row.last_used_at) >= USE_RESOLUTION:
            row.last_used_at = now
        return Caller(row.workspace_id, row.name, row.read_only)


def _aware(moment: datetime) -> datetime:
    """SQLite gives back naive UTC times."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
