"""The platform client of a connected account, pointed where the settings say.

Each platform's API answers at its own address unless ``publish.<platform>.base_url`` names
another (a proxy, or a test's stand-in); the client gets its access tokens from the account's
token source, which refreshes them before they expire.
"""
from __future__ import annotations

import importlib
import uuid
from collections.abc import Callable
from typing import Any

from studio.engine.core import Studio
from studio.engine.db.models import PublishAccount
from studio.engine.errors import InvalidInput
from studio.engine.publish.platform import PLATFORMS, Platform

# The platforms' own API roots (their documentation's): used when the settings name none.
INSTAGRAM_API = "https://graph.instagram.com"
TIKTOK_API = "https://open.tiktokapis.com"
YOUTUBE_API = "https://www.googleapis.com/youtube/v3"
YOUTUBE_UPLOAD = "https://www.googleapis.com/upload/youtube/v3"

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
    """The client that posts as ``account``."""
    tokens = _module("account_tokens").token_source(studio, account)
    settings = studio.settings.publish
    client: Platform
    if account.platform == "instagram":
        base = settings.instagram.base_url or INSTAGRAM_API
        client = _module("instagram").InstagramClient(base, tokens, account.account_id)
        return client
    if account.platform == "tiktok":
        # Direct post unless the account was found not approved for it (the client falls back
        # to the user's inbox when the API says so).
        direct = bool((account.meta or {}).get("direct_post", True))
        client = _module("tiktok").TikTokClient(settings.tiktok.base_url or TIKTOK_API, tokens, direct_post=direct)
        return client
    if account.platform == "youtube":
        base = settings.youtube.base_url.rstrip("/")
        # A stand-in or proxy at base_url serves uploads under its /upload path, as Google does.
        upload = f"{base}/upload" if base else YOUTUBE_UPLOAD
        client = _module("youtube").YouTubeClient(base or YOUTUBE_API, upload, tokens)
        return client
    raise InvalidInput(f"Unknown platform '{account.platform}'; one of {', '.join(PLATFORMS)}.")


def _module(name: str) -> Any:
    """A platform's own module, loaded when an account of it posts."""
    return importlib.import_module(f"studio.engine.publish.{name}")


def connect(studio: Studio, workspace_id: uuid.UUID, platform: str, *,
            open_browser: Callable[[str], object]) -> PublishAccount:
    """Signs in to ``platform`` in the system browser and keeps the account (account_tokens)."""
    account: PublishAccount = _module("account_tokens").connect(studio, workspace_id, platform_name(platform),
                                                                open_browser=open_browser)
    return account


def disconnect(studio: Studio, workspace_id: uuid.UUID, platform: str) -> None:
    """Revokes the account's tokens where the platform allows, and forgets the account."""
    _module("account_tokens").disconnect(studio, workspace_id, platform_name(platform))
