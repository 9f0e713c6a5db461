"""Connecting an account end to end (browser, stand-in authorization server, the platform naming
the account), the tokens kept only in the secret store, refreshed before they expire, and
disconnecting."""
from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from studio.engine.core import Studio
from studio.engine.db.models import PublishAccount
from studio.engine.errors import InvalidInput
from studio.engine.publish import account_tokens
from studio.engine.publish.instagram import InstagramClient
from studio.engine.publish.platform import Post, PublishError
from studio.engine.publish.providers import client_secret_name
from studio.engine.secrets import SECRETS_FILE
from tests.fakes.instagram_api import FakeInstagram
from tests.fakes.oauth_server import FakeOAuthServer


@pytest.fixture
def workspace_id(studio: Studio) -> uuid.UUID:
    return studio.workspace().id


def _point(studio: Studio, platform: str, auth: FakeOAuthServer, api_url: str) -> None:
    studio.settings.set(f"publish.{platform}.auth_url", auth.url)
    studio.settings.set(f"publish.{platform}.base_url", api_url)
    studio.settings.set(f"publish.{platform}.client_id", auth.client_id)
    studio.secrets.set(client_secret_name(platform), auth.client_secret)


@pytest.fixture
def tiktok(studio: Studio) -> Iterator[FakeOAuthServer]:
    with FakeOAuthServer("tiktok", account=("open-id-77", "Mia on TikTok")) as fake:
        _point(studio, "tiktok", fake, fake.url)
        yield fake


def _rows(studio: Studio) -> list[PublishAccount]:
    with studio.db.session() as session:
        return list(session.scalars(select(PublishAccount)))


def _files_holding(folder: Path, secret: str) -> list[str]:
    return sorted(p.name for p in folder.rglob("*") if p.is_file() and secret.encode() in p.read_bytes())


def test_connecting_instagram_stores_a_long_lived_token_only_in_the_secret_store(
        studio: Studio, workspace_id: uuid.UUID) -> None:
    with FakeOAuthServer("instagram", account=("17841400000000001", "")) as auth, FakeInstagram() as graph:
        graph.short_tokens = auth.access  # the Graph API takes only tokens the login issued
        _point(studio, "instagram", auth, graph.url)

        account = account_tokens.connect(studio, workspace_id, "instagram", open_browser=auth.browser)

    tokens = account_tokens.load_tokens(studio.secrets, workspace_id, "instagram")
    assert tokens is not None and tokens.access_token in graph.tokens  # the long-lived one
    assert tokens.access_token not in auth.access
    assert (account.platform, account.account_id, account.name) == ("instagram", graph.user_id, "mia.moreno")
    assert account.scopes == ["instagram_business_basic", "instagram_business_content_publish"]
    assert account.expires_at is not None
    assert timedelta(days=59) < account.expires_at - datetime.now(UTC) < timedelta(days=61)
    # Neither the database nor any other file of the data folder holds a token.
    studio.db.dispose()
    assert _files_holding(studio.paths.data_dir, tokens.access_token) == [SECRETS_FILE]
    assert studio.paths.database_file.exists()


def test_a_token_about_to_expire_is_refreshed_and_saved_before_it_is_handed_out(
        studio: Studio, workspace_id: uuid.UUID, tiktok: FakeOAuthServer) -> None:
    tiktok.expires_in = 120  # within the 5 minutes: refreshed on first use
    account = account_tokens.connect(studio, workspace_id, "tiktok", open_browser=tiktok.browser)
    first = account_tokens.load_tokens(studio.secrets, workspace_id, "tiktok")
    tiktok.expires_in = 7200
    source = account_tokens.token_source(studio, account)

    token = source()

    saved = account_tokens.load_tokens(studio.secrets, workspace_id, "tiktok")
    assert first is not None and saved is not None
    assert token != first.access_token and token == saved.access_token and token in tiktok.access
    assert saved.refresh_token != first.refresh_token  # TikTok rotates it; the new one is kept
    assert saved.account_name == "Mia on TikTok"
    [row] = _rows(studio)
    assert row.expires_at is not None and row.expires_at - datetime.now(UTC) > timedelta(hours=1)
    assert source() == token  # fresh now: not refreshed again
    assert len([f for f in tiktok.requests_to("/v2/oauth/token/") if f["grant_type"] == "refresh_token"]) == 1


def test_a_refresh_refused_with_invalid_grant_asks_to_reconnect(
        studio: Studio, workspace_id: uuid.UUID) -> None:
    with FakeOAuthServer("youtube", expires_in=30) as google:
        _point(studio, "youtube", google, google.url + "/youtube/v3")
        account = account_tokens.connect(studio, workspace_id, "youtube", open_browser=google.browser)
        google.refresh_tokens.clear()  # the user removed the app's access in their Google account

        with pytest.raises(PublishError) as caught:
            account_tokens.token_source(studio, account)()

    assert caught.value.reconnect and not caught.value.transient
    assert str(caught.value) == ("YouTube: the connection expired or was revoked; reconnect YouTube in "
                                 "Preferences → Automation.")
    assert account.name == "Mia Moreno" and account.account_id == "acct-1"


def test_instagram_is_refreshed_a_week_before_its_60_days_end(
        studio: Studio, workspace_id: uuid.UUID) -> None:
    with FakeOAuthServer("instagram") as auth, FakeInstagram() as graph:
        _point(studio, "instagram", auth, graph.url)
        account = account_tokens.connect(studio, workspace_id, "instagram", open_browser=auth.browser)
        old = account_tokens.load_tokens(studio.secrets, workspace_id, "instagram")
        assert old is not None
        account_tokens.save_tokens(studio.secrets, workspace_id, "instagram",
                                   replace(old, expires_at=datetime.now(UTC) + timedelta(days=3)))

        token = account_tokens.token_source(studio, account)()

    assert token != old.access_token and token in graph.tokens
    [refresh] = [p for m, path, p in graph.received if path == "/refresh_access_token"]
    assert refresh == {"grant_type": "ig_refresh_token", "access_token": old.access_token}


def test_an_account_never_connected_asks_to_connect(studio: Studio, workspace_id: uuid.UUID) -> None:
    account = PublishAccount(platform="tiktok", workspace_id=workspace_id)

    with pytest.raises(PublishError, match="TikTok is not connected for this workspace") as caught:
        account_tokens.token_source(studio, account)()

    assert caught.value.reconnect


def test_connecting_without_the_apps_client_id_or_secret_says_what_to_set(
        studio: Studio, workspace_id: uuid.UUID) -> None:
    with pytest.raises(InvalidInput) as no_id:
        account_tokens.connect(studio, workspace_id, "youtube", open_browser=lambda url: None)
    studio.settings.set("publish.youtube.client_id", "123.apps.googleusercontent.com")
    with pytest.raises(InvalidInput) as no_secret:
        account_tokens.connect(studio, workspace_id, "youtube", open_browser=lambda url: None)

    assert str(no_id.value) == ("Set publish.youtube.client_id (Preferences → Automation) to your YouTube "
                                "app's client id first.")
    assert str(no_secret.value) == ("YouTube needs your app's client secret: set it in Preferences → "
                                    "Automation → App secrets. From a terminal: "
                                    "`influencerai-studio secret set publish.youtube.client_secret`.")


def test_disconnect_revokes_where_it_can_and_forgets_tokens_and_row(
        studio: Studio, workspace_id: uuid.UUID, tiktok: FakeOAuthServer) -> None:
    account_tokens.connect(studio, workspace_id, "tiktok", open_browser=tiktok.browser)
    tokens = account_tokens.load_tokens(studio.secrets, workspace_id, "tiktok")

    assert account_tokens.disconnect(studio, workspace_id, "tiktok") is True

    assert tokens is not None and tiktok.revoked == [tokens.access_token]
    assert account_tokens.load_tokens(studio.secrets, workspace_id, "tiktok") is None
    assert _rows(studio) == []


def test_disconnecting_instagram_forgets_it_though_instagram_cannot_revoke(
        studio: Studio, workspace_id: uuid.UUID) -> None:
    with FakeOAuthServer("instagram") as auth, FakeInstagram() as graph:
        _point(studio, "instagram", auth, graph.url)
        account_tokens.connect(studio, workspace_id, "instagram", open_browser=auth.browser)

        assert account_tokens.disconnect(studio, workspace_id, "instagram") is False

    assert account_tokens.load_tokens(studio.secrets, workspace_id, "instagram") is None
    assert _rows(studio) == []


def test_each_workspace_has_its_own_connection(studio: Studio, workspace_id: uuid.UUID,
                                               tiktok: FakeOAuthServer) -> None:
    other = studio.workspace("Second brand", create=True).id
    account_tokens.connect(studio, workspace_id, "tiktok", open_browser=tiktok.browser)

    assert account_tokens.load_tokens(studio.secrets, other, "tiktok") is None
    assert account_tokens.disconnect(studio, other, "tiktok") is False
    assert [r.workspace_id for r in _rows(studio)] == [workspace_id]


def test_the_instagram_client_posts_with_the_connected_accounts_tokens(
        studio: Studio, workspace_id: uuid.UUID) -> None:
    with FakeOAuthServer("instagram") as auth, FakeInstagram() as graph:
        _point(studio, "instagram", auth, graph.url)
        account = account_tokens.connect(studio, workspace_id, "instagram", open_browser=auth.browser)
        client = InstagramClient(graph.url, account_tokens.token_source(studio, account), account.account_id,
                                 sleep=lambda s: None)

        published = client.publish(Post(kind="image", files=(Path("a.jpg"),), caption="hello",
                                        public_urls=("https://cdn.example.net/a.jpg",)), lambda f, m: None)

    stored = account_tokens.load_tokens(studio.secrets, workspace_id, "instagram")
    assert published.url.startswith("https://www.instagram.com/p/") and len(graph.published) == 1
    assert stored is not None
    assert {p["access_token"] for _, path, p in graph.received if path.startswith(f"/{graph.user_id}/")} == {
        stored.access_token}


def test_an_instagram_token_already_expired_asks_to_reconnect(studio: Studio, workspace_id: uuid.UUID) -> None:
    with FakeOAuthServer("instagram") as auth, FakeInstagram() as graph:
        _point(studio, "instagram", auth, graph.url)
        account = account_tokens.connect(studio, workspace_id, "instagram", open_browser=auth.browser)
        old = account_tokens.load_tokens(studio.secrets, workspace_id, "instagram")
        assert old is not None
        account_tokens.save_tokens(studio.secrets, workspace_id, "instagram",
                                   replace(old, expires_at=datetime.now(UTC) - timedelta(days=1)))
        graph.expired.add(old.access_token)  # Instagram refreshes only an unexpired token

        with pytest.raises(PublishError) as caught:
            account_tokens.token_source(studio, account)()

    assert caught.value.reconnect
    assert "reconnect Instagram in Preferences → Automation" in str(caught.value)


def test_a_refresh_that_cannot_reach_the_platform_is_transient(
        studio: Studio, workspace_id: uuid.UUID, tiktok: FakeOAuthServer) -> None:
    tiktok.expires_in = 60
    account = account_tokens.connect(studio, workspace_id, "tiktok", open_browser=tiktok.browser)
    tiktok.close()  # the network went away

    with pytest.raises(PublishError) as caught:
        account_tokens.token_source(studio, account)()

    assert caught.value.transient and not caught.value.reconnect
    assert str(caught.value).startswith("TikTok could not be reached")
