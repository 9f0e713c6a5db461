"""Each platform's OAuth 2.0 endpoints and API hosts, as their documentation gives them.

Instagram (Business Login for Instagram, Instagram API with Instagram Login):
  authorization ``https://www.instagram.com/oauth/authorize`` (``client_id``, ``redirect_uri``,
  ``response_type=code``, ``scope`` comma-separated, ``state``); token
  ``POST https://api.instagram.com/oauth/access_token`` (``client_id``, ``client_secret``,
  ``grant_type=authorization_code``, ``redirect_uri``, ``code``) giving a short-lived (1 hour)
  token and the account's ``user_id``; the long-lived token (60 days) from
  ``GET https://graph.instagram.com/access_token?grant_type=ig_exchange_token``, refreshed with
  ``GET /refresh_access_token?grant_type=ig_refresh_token`` (a token at least 24 hours old and
  unexpired; the new one lasts 60 days). No PKCE parameters and no revoke endpoint are
  documented: the user removes the app in Instagram's settings. Scopes
  ``instagram_business_basic`` and ``instagram_business_content_publish``. Meta checks the
  redirect URI exactly against the app's list of valid OAuth redirect URIs, and the token
  requests carry the app secret: the user registers their own app (its id a setting, its secret
  in the secret store), with the loopback callback among its redirect URIs.
TikTok (Login Kit for Desktop, OAuth v2): authorization ``https://www.tiktok.com/v2/auth/authorize/``
  with ``client_key``, comma-separated ``scope``, ``code_challenge`` and
  ``code_challenge_method=S256``; the desktop guide computes the challenge as the hex SHA-256 of
  the verifier. Token ``POST https://open.tiktokapis.com/v2/oauth/token/`` (``client_key``,
  ``client_secret``, ``code``, ``grant_type``, ``redirect_uri``, ``code_verifier``); refresh
  tokens rotate; revoke ``POST /v2/oauth/revoke/``. Desktop redirect URIs may be
  ``http://127.0.0.1`` with any port when registered with a wildcard port.
YouTube (Google OAuth 2.0 for installed apps): authorization
  ``https://accounts.google.com/o/oauth2/v2/auth`` with space-separated scopes, PKCE S256
  (base64url, no padding), ``access_type=offline`` and ``prompt=consent`` so a refresh token is
  always returned; token ``POST https://oauth2.googleapis.com/token`` (a desktop client's secret
  is not confidential but still sent); revoke ``POST https://oauth2.googleapis.com/revoke``
  with ``token``. A refresh answer usually leaves ``refresh_token`` out: the old one stays.

Settings ``publish.<platform>.auth_url`` and ``base_url`` point them elsewhere (a proxy, a test
stand-in): ``auth_url`` is the origin of an authorization server that serves the platform's own
paths (authorization, token and revoke), ``base_url`` the API root as the clients use it
(Instagram's Graph host, whose root also serves the long-lived token exchange; TikTok's
``open.tiktokapis.com``; YouTube's ``…/youtube/v3``)."""
from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Literal

from studio.engine.config import PlatformSettings, Settings
from studio.engine.errors import InvalidInput
from studio.engine.publish.platform import PLATFORMS

_VERSION = re.compile(r"/v\d+(\.\d+)?$")  # the Graph API version at the end of a base URL
Challenge = Literal["base64url", "hex", ""]  # how the PKCE S256 challenge is written; "" no PKCE


@dataclass(frozen=True, slots=True)
class Provider:
    platform: str
    label: str  # as the user reads it: "Instagram"
    auth_origin: str
    authorize_path: str
    token_origin: str
    token_path: str
    revoke_path: str  # "" where the platform documents no revoke endpoint
    api_url: str  # the API calls' base (Instagram's carries the Graph API version)
    scopes: tuple[str, ...]
    scope_separator: str
    client_id_field: str = "client_id"  # TikTok calls it client_key
    challenge: Challenge = "base64url"
    needs_secret: bool = True
    extra_authorize: tuple[tuple[str, str], ...] = ()
    refresh_margin: timedelta = timedelta(minutes=5)  # refresh a token expiring this soon

    @property
    def authorize_url(self) -> str:
        return self.auth_origin + self.authorize_path

    @property
    def token_url(self) -> str:
        return self.token_origin + self.token_path

    @property
    def revoke_url(self) -> str:
        return self.token_origin + self.revoke_path if self.revoke_path else ""

    @property
    def graph_host(self) -> str:
        """Instagram's long-lived token exchange and refresh live at the Graph host's root."""
        return _VERSION.sub("", self.api_url)


INSTAGRAM = Provider(
    platform="instagram", label="Instagram",
    auth_origin="https://www.instagram.com", authorize_path="/oauth/authorize",
    token_origin="https://api.instagram.com", token_path="/oauth/access_token", revoke_path="",
    api_url="https://graph.instagram.com/v24.0",
    scopes=("instagram_business_basic", "instagram_business_content_publish"), scope_separator=",",
    challenge="",
    # A 60-day token refreshed this long before it ends: the worker need not be up in its last minutes.
    refresh_margin=timedelta(days=7))

TIKTOK = Provider(
    platform="tiktok", label="TikTok",
    auth_origin="https://www.tiktok.com", authorize_path="/v2/auth/authorize/",
    token_origin="https://open.tiktokapis.com", token_path="/v2/oauth/token/",
    revoke_path="/v2/oauth/revoke/", api_url="https://open.tiktokapis.com",
    scopes=("user.info.basic", "video.publish", "video.upload"), scope_separator=",",
    client_id_field="client_key", challenge="hex")

YOUTUBE = Provider(
    platform="youtube", label="YouTube",
    auth_origin="https://accounts.google.com", authorize_path="/o/oauth2/v2/auth",
    token_origin="https://oauth2.googleapis.com", token_path="/token", revoke_path="/revoke",
    api_url="https://www.googleapis.com/youtube/v3",
    scopes=("https://www.googleapis.com/auth/youtube.upload",
            "https://www.googleapis.com/auth/youtube.readonly"), scope_separator=" ",
    extra_authorize=(("access_type", "offline"), ("prompt", "consent")))

DEFAULTS = {p.platform: p for p in (INSTAGRAM, TIKTOK, YOUTUBE)}


def provider_for(settings: Settings, platform: str) -> Provider:
    """The platform's provider with the user's ``auth_url``/``base_url`` applied."""
    if platform not in PLATFORMS:
        raise InvalidInput(f"'{platform}' is not a platform the studio posts to "
                           f"({', '.join(PLATFORMS)}).")
    provider = DEFAULTS[platform]
    own = platform_settings(settings, platform)
    if own.auth_url:
        origin = own.auth_url.rstrip("/")
        provider = replace(provider, auth_origin=origin, token_origin=origin)
    if own.base_url:
        provider = replace(provider, api_url=own.base_url.rstrip("/"))
    return provider


def platform_settings(settings: Settings, platform: str) -> PlatformSettings:
    section = getattr(settings.publish, platform)
    assert isinstance(section, PlatformSettings)
    return section


def client_secret_name(platform: str) -> str:
    """The secret holding the platform app's client secret (``secret set`` this name)."""
    return f"publish.{platform}.client_secret"
