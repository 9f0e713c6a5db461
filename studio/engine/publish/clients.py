"""The platform client of a connected account, pointed where the settings say.

Each platform's API answers at its own address unless ``publish.<platform>.base_url`` names
another (a proxy, or a test's stand-in); the client gets its access tokens from the account's
token source, which refreshes them before they expire.
"""
from __future__ import annotations

import uuid
from collections.abc import Callable
from urllib.parse import urlsplit, urlunsplit

from studio.engine.core import Studio
from studio.engine.db.models import PublishAccount
from studio.engine.errors import InvalidInput
from studio.engine.publish import account_tokens
from studio.engine.publish.account_tokens import token_source
from studio.engine.publish.instagram import InstagramClient
from studio.engine.publish.platform import PLATFORMS, Platform
from studio.engine.publish.providers import provider_for
from studio.engine.publish.tiktok import TikTokClient
from studio.engine.publish.youtube import YouTubeClient

DISPLAY = {"instagram": "Instagram", "tiktok": "TikTok", "youtube": "YouTube"}
# The plan's platform names (plans/schema.py) as the publishing platforms call them.
ALIASES = {"youtube-shorts": "youtube", "shorts": "youtube"}


def platform_name(text: str) -> str:
    """``instagram``, ``tiktok`` or ``youtube`` for a name the plan or the user wrote."""
    name = ALIASES.get(text.strip().lower(), text.strip().lower())
    if name not in PLATFORMS:
        raise InvalidInput(f"Unknown platform '{text}'; one of {', '.join(PLATFORMS)}.")
    return name


def display_name(platform: str) -> str:
    return DISPLAY.get(platform, platform)


def client_for(studio: Studio, account: PublishAccount) -> Platform:
    """The client that posts as ``account``, at the API root the settings name (else the
    platform's own: providers.py)."""
    tokens = token_source(studio, account)
    api = provider_for(studio.settings, account.platform).api_url
    public = studio.settings.publish.visibility == "public"
    if account.platform == "instagram":
        return InstagramClient(api, tokens, account.account_id)
    if account.platform == "tiktok":
        # Direct post unless the account was found not approved for it (the client also falls
        # back to the user's inbox when the API says so).
        return TikTokClient(api, tokens, direct_post=bool((account.meta or {}).get("direct_post", True)),
                            public=public)
    return YouTubeClient(api, upload_root(api), tokens, privacy_status="public" if public else "private")


def upload_root(api: str) -> str:
    """Google serves uploads under ``/upload`` before the API's path
    (``https://www.googleapis.com/upload/youtube/v3``); a proxy or stand-in is taken to as well."""
    parts = urlsplit(api)
    return urlunsplit((parts.scheme, parts.netloc, "/upload" + parts.path.rstrip("/"), "", ""))


def connect(studio: Studio, workspace_id: uuid.UUID, platform: str, *,
            open_browser: Callable[[str], object]) -> PublishAccount:
    """Signs in to ``platform`` in the system browser and keeps the account (account_tokens)."""
    return account_tokens.connect(studio, workspace_id, platform_name(platform), open_browser=open_browser)


def disconnect(studio: Studio, workspace_id: uuid.UUID, platform: str) -> bool:
    """Revokes the account's tokens where the platform allows (True), and forgets the account."""
    return account_tokens.disconnect(studio, workspace_id, platform_name(platform))
