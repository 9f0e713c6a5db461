"""A connected account: its OAuth tokens in the secret store, its name and expiry in the database.

The tokens (one secret per workspace and platform, JSON, ``publish.<platform>.tokens.<workspace>``)
never go to the database, a settings file or a log; the ``PublishAccount`` row keeps only the
platform's account id and name, the scopes granted and when the access token expires, for the
app and the CLI to show. ``token_source`` hands the clients a valid access token, refreshing it
(and saving the new one) when it is about to expire; an authorization that is gone becomes a
``PublishError`` asking the user to reconnect.

Refreshes are serialised within one process; two processes refreshing a TikTok token at the same
moment could each rotate it, and the loser is asked to reconnect."""
from __future__ import annotations

import logging
import threading
import uuid
import webbrowser
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Any

import httpx

from studio.engine.core import Studio
from studio.engine.db.models import PublishAccount
from studio.engine.db.repositories import Repository
from studio.engine.errors import InvalidInput, StudioError
from studio.engine.publish import oauth
from studio.engine.publish.oauth import OAuthError, Tokens
from studio.engine.publish.platform import PublishError, TokenSource
from studio.engine.publish.providers import Provider, client_secret_name, platform_settings, provider_for
from studio.engine.redact import register_secret
from studio.engine.secrets import SecretStore

log = logging.getLogger("studio.publish")
_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()


def secret_name(workspace_id: uuid.UUID, platform: str) -> str:
    return f"publish.{platform}.tokens.{workspace_id}"


def save_tokens(store: SecretStore, workspace_id: uuid.UUID, platform: str, tokens: Tokens) -> None:
    # The store redacts the JSON it holds; the tokens inside are taken out of logs one by one.
    register_secret(tokens.access_token)
    register_secret(tokens.refresh_token)
    store.set(secret_name(workspace_id, platform), tokens.to_json())


def load_tokens(store: SecretStore, workspace_id: uuid.UUID, platform: str) -> Tokens | None:
    text = store.get(secret_name(workspace_id, platform))
    if not text:
        return None
    try:
        tokens = Tokens.from_json(text)
    except (ValueError, KeyError, TypeError):
        log.warning("the stored %s tokens are unreadable; the account must be connected again", platform)
        return None
    register_secret(tokens.access_token)
    register_secret(tokens.refresh_token)
    return tokens


def delete_tokens(store: SecretStore, workspace_id: uuid.UUID, platform: str) -> None:
    store.delete(secret_name(workspace_id, platform))


def client_credentials(studio: Studio, platform: str) -> tuple[Provider, str, str | None]:
    """The provider, the app's client id (a setting) and client secret (a secret)."""
    provider = provider_for(studio.settings, platform)
    client_id = platform_settings(studio.settings, platform).client_id.strip()
    if not client_id:
        raise InvalidInput(f"Set publish.{platform}.client_id (Preferences → Automation) to your "
                           f"{provider.label} app's client id first.")
    secret = studio.secrets.get(client_secret_name(platform))
    if provider.needs_secret and not secret:
        raise InvalidInput(f"{provider.label} needs your app's client secret: set it in Preferences → "
                           f"Automation → App secrets. From a terminal: "
                           f"`influencerai-studio secret set {client_secret_name(platform)}`.")
    return provider, client_id, secret


def connect(studio: Studio, workspace_id: uuid.UUID, platform: str, *,
            open_browser: Callable[[str], object] = webbrowser.open, timeout_s: float = 300,
            http: httpx.Client | None = None, port: int | None = None) -> PublishAccount:
    """Signs in through the browser, names the account, stores its tokens and its row.
    ``port``: the loopback callback's port (None: publish.<platform>.redirect_port, whose 0
    takes a free one; see oauth.authorize)."""
    provider, client_id, secret = client_credentials(studio, platform)
    if port is None:
        port = platform_settings(studio.settings, platform).redirect_port
    tokens = oauth.authorize(provider, client_id, secret, open_browser=open_browser,
                             timeout_s=timeout_s, http=http, port=port)
    account_id, name = identify(provider, tokens, http=http)
    tokens = replace(tokens, account_id=account_id, account_name=name)
    save_tokens(studio.secrets, workspace_id, platform, tokens)
    return _upsert(studio, workspace_id, platform, tokens)


def disconnect(studio: Studio, workspace_id: uuid.UUID, platform: str, *,
               http: httpx.Client | None = None) -> bool:
    """Revokes the access where the platform allows it, then forgets the tokens and the row.
    True when the platform revoked it; False where it cannot (Instagram: the user removes the
    app in Instagram's settings) or could not be reached (forgotten here all the same)."""
    tokens = load_tokens(studio.secrets, workspace_id, platform)
    revoked = False
    if tokens is not None:
        try:
            provider, client_id, secret = client_credentials(studio, platform)
            revoked = oauth.revoke(provider, client_id, secret, tokens, http=http)
        except StudioError as exc:
            log.warning("%s access was not revoked at the platform: %s", platform, exc)
    delete_tokens(studio.secrets, workspace_id, platform)
    with studio.db.session() as session:
        row = Repository(session, workspace_id).find(PublishAccount, platform=platform)
        if row is not None:
            session.delete(row)
    return revoked


def token_source(studio: Studio, account: PublishAccount) -> TokenSource:
    """A callable giving a valid access token for ``account``, refreshed when near expiry."""
    workspace_id, platform = account.workspace_id, account.platform
    lock = _lock(secret_name(workspace_id, platform))

    def current() -> str:
        with lock:
            tokens = load_tokens(studio.secrets, workspace_id, platform)
            provider = provider_for(studio.settings, platform)
            if tokens is None:
                raise PublishError(f"{provider.label} is not connected for this workspace; connect it "
                                   "in Preferences → Automation.", reconnect=True)
            if tokens.expires_within(provider.refresh_margin):
                tokens = _refreshed(studio, workspace_id, platform, tokens)
            return tokens.access_token

    return current


def _refreshed(studio: Studio, workspace_id: uuid.UUID, platform: str, tokens: Tokens) -> Tokens:
    try:
        provider, client_id, secret = client_credentials(studio, platform)
        fresh = oauth.refresh(provider, client_id, secret, tokens)
    except OAuthError as exc:
        raise PublishError(str(exc), transient=exc.transient, reconnect=exc.reconnect) from exc
    except InvalidInput as exc:
        raise PublishError(str(exc)) from exc
    save_tokens(studio.secrets, workspace_id, platform, fresh)
    _record_expiry(studio, workspace_id, platform, fresh.expires_at)
    return fresh


def _record_expiry(studio: Studio, workspace_id: uuid.UUID, platform: str, expires_at: datetime | None) -> None:
    with studio.db.session() as session:
        repo = Repository(session, workspace_id)
        row = repo.find(PublishAccount, platform=platform)
        if row is not None:
            repo.update(row, expires_at=expires_at)


def _upsert(studio: Studio, workspace_id: uuid.UUID, platform: str, tokens: Tokens) -> PublishAccount:
    fields: dict[str, Any] = {"account_id": tokens.account_id, "name": tokens.account_name,
              "scopes": list(tokens.scopes), "expires_at": tokens.expires_at}
    with studio.db.session() as session:
        repo = Repository(session, workspace_id)
        row = repo.find(PublishAccount, platform=platform)
        if row is None:
            return repo.add(PublishAccount(platform=platform, **fields))
        return repo.update(row, **fields)


def identify(provider: Provider, tokens: Tokens, *, http: httpx.Client | None = None) -> tuple[str, str]:
    """The account's id and name as the platform gives them to its signed-in user:
    Instagram ``GET /me?fields=user_id,username`` (``user_id`` is the professional account id
    the publishing calls take); TikTok ``GET /v2/user/info/?fields=open_id,display_name``;
    YouTube ``GET /channels?part=snippet&mine=true`` (the channel's id and title)."""
    platform, api = provider.platform, provider.api_url
    if platform == "instagram":
        me = _read(provider, http, api + "/me", params={"fields": "user_id,username",
                                                         "access_token": tokens.access_token})
        return str(me.get("user_id") or tokens.account_id), str(me.get("username") or "")
    bearer = {"Authorization": f"Bearer {tokens.access_token}"}
    if platform == "tiktok":
        user = _read(provider, http, api + "/v2/user/info/", params={"fields": "open_id,display_name"},
                     headers=bearer).get("data", {}).get("user", {})
        return str(user.get("open_id") or tokens.account_id), str(user.get("display_name") or "")
    items = _read(provider, http, api + "/channels", params={"part": "snippet", "mine": "true"},
                  headers=bearer).get("items") or []
    if not items:
        raise OAuthError("This Google account has no YouTube channel; create one, then connect again.")
    return str(items[0].get("id") or ""), str(items[0].get("snippet", {}).get("title") or "")


def _read(provider: Provider, http: httpx.Client | None, url: str, **kwargs: Any) -> dict[str, Any]:
    client = http or httpx.Client(timeout=oauth.TIMEOUT)
    try:
        response = client.get(url, **kwargs)
    except httpx.HTTPError as exc:
        raise OAuthError(f"{provider.label} could not be reached ({type(exc).__name__}).", transient=True) from exc
    finally:
        if http is None:
            client.close()
    if response.status_code >= 400:
        raise OAuthError(f"{provider.label} did not name the signed-in account (HTTP {response.status_code}).")
    body = response.json()
    return body if isinstance(body, dict) else {}


def _lock(name: str) -> threading.Lock:
    with _locks_guard:
        return _locks.setdefault(name, threading.Lock())
