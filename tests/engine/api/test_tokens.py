"""API tokens: kept as hashes, one workspace each, their last use recorded sparingly."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from studio.engine.api.tokens import create_token, list_tokens, token_hash, verify_token
from studio.engine.core import Studio
from studio.engine.db.models import ApiToken
from studio.engine.db.types import utcnow


def test_only_the_hash_is_kept(studio: Studio) -> None:
    token = create_token(studio.db, studio.workspace().id, "n8n")
    with studio.db.session() as session:
        stored = session.scalars(select(ApiToken.token_hash)).all()
    assert stored == [token_hash(token)] and token not in stored[0]


def test_last_use_is_written_at_most_once_a_minute(studio: Studio) -> None:
    workspace = studio.workspace().id
    token = create_token(studio.db, workspace, "n8n")
    assert list_tokens(studio.db, workspace)[0].last_used_at is None
    assert verify_token(studio.db, token) is not None
    first = list_tokens(studio.db, workspace)[0].last_used_at
    assert first is not None
    assert verify_token(studio.db, token) is not None
    assert list_tokens(studio.db, workspace)[0].last_used_at == first  # no write for this one
    with studio.db.session() as session:
        row = session.scalars(select(ApiToken)).one()
        row.last_used_at = utcnow() - timedelta(minutes=2)
    assert verify_token(studio.db, token) is not None
    later = list_tokens(studio.db, workspace)[0].last_used_at
    assert later is not None and utcnow() - later < timedelta(seconds=30)


def test_malformed_tokens_are_refused_without_a_lookup(studio: Studio) -> None:
    assert verify_token(studio.db, "") is None
    assert verify_token(studio.db, "Bearer isk_x") is None
    assert verify_token(studio.db, "isk_" + "a" * 300) is None
