"""OAuth 2.0 as a desktop app does it (RFC 8252): the system browser, a loopback redirect, PKCE.

``authorize`` listens on ``http://127.0.0.1:<free port>/callback``, opens the platform's consent
page in the user's browser with a random ``state`` and (where the platform takes it) a PKCE S256
challenge (RFC 7636: a verifier of 43-128 unreserved characters; the challenge its SHA-256,
base64url without padding, or hex where TikTok's desktop guide asks for it), waits for the
browser to come back, checks the state and trades the code at the token endpoint.
``refresh`` and ``revoke`` follow each platform's documented requests (see providers.py).

Every failure is one readable line. ``OAuthError.reconnect`` marks an authorization that is
gone (``invalid_grant``, Instagram's error 190): only connecting again helps. ``transient``
marks a network fault or a 429/5xx: trying later may work."""
from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import webbrowser
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

import httpx

from studio.engine.errors import StudioError
from studio.engine.publish.platform import http_session
from studio.engine.publish.providers import Provider

TIMEOUT = httpx.Timeout(30.0, connect=10.0)
CALLBACK_PATH = "/callback"
_PAGE = ("<!doctype html><meta charset=utf-8><title>InfluencerAI Studio</title>"
         "<body style='font-family:sans-serif;margin:3em'><h2>{title}</h2>"
         "<p>You can close this tab and go back to the studio.</p></body>")


class OAuthError(StudioError):
    def __init__(self, message: str, *, reconnect: bool = False, transient: bool = False) -> None:
        super().__init__(message)
        self.reconnect = reconnect
        self.transient = transient


@dataclass(frozen=True, slots=True)
class Tokens:
    access_token: str = field(repr=False)  # kept out of any repr that reaches a log or a traceback
    refresh_token: str = field(default="", repr=False)  # Instagram has none: its token refreshes itself
    expires_at: datetime | None = None
    scopes: tuple[str, ...] = ()
    account_id: str = ""  # what the token answer names: Instagram's user_id, TikTok's open_id
    account_name: str = ""
    refresh_expires_at: datetime | None = None

    def expires_within(self, margin: timedelta, now: datetime | None = None) -> bool:
        return self.expires_at is not None and self.expires_at - margin <= (now or _now())

    def to_json(self) -> str:
        return json.dumps({
            "access_token": self.access_token, "refresh_token": self.refresh_token,
            "expires_at": _iso(self.expires_at), "scopes": list(self.scopes),
            "account_id": self.account_id, "account_name": self.account_name,
            "refresh_expires_at": _iso(self.refresh_expires_at)}, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> Tokens:
        data = json.loads(text)
        return cls(access_token=str(data["access_token"]), refresh_token=str(data.get("refresh_token") or ""),
                   expires_at=_parse_iso(data.get("expires_at")), scopes=tuple(data.get("scopes") or ()),
                   account_id=str(data.get("account_id") or ""), account_name=str(data.get("account_name") or ""),
                   refresh_expires_at=_parse_iso(data.get("refresh_expires_at")))


def pkce_pair(kind: str) -> tuple[str, str]:
    """A verifier (86 unreserved characters) and its S256 challenge written as ``kind`` asks."""
    verifier = secrets.token_urlsafe(64)
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    if kind == "hex":
        return verifier, digest.hex()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def authorize(provider: Provider, client_id: str, client_secret: str | None, *,
              open_browser: Callable[[str], object] = webbrowser.open, timeout_s: float = 300,
              http: httpx.Client | None = None, port: int = 0) -> Tokens:
    """Runs the whole sign-in; returns the tokens (Instagram's already long-lived). ``port`` 0
    listens on a free port; a platform that matches redirect URIs exactly (Meta) needs a fixed one."""
    if provider.needs_secret and not client_secret:
        raise OAuthError(f"{provider.label} needs the app's client secret to sign in.")
    verifier, challenge = pkce_pair(provider.challenge) if provider.challenge else ("", "")
    state = secrets.token_urlsafe(24)
    with _Loopback(provider.label, port) as loopback:
        url = authorization_url(provider, client_id, loopback.redirect_uri, state, challenge)
        open_browser(url)
        answer = loopback.wait(timeout_s)
    code = _code_from(provider, answer, state)
    with http_session(http, TIMEOUT) as client:
        tokens = _exchange(client, provider, client_id, client_secret, code, loopback.redirect_uri, verifier)
        if provider.platform == "instagram":
            tokens = _instagram_long_lived(client, provider, client_secret or "", tokens)
    return tokens


def authorization_url(provider: Provider, client_id: str, redirect_uri: str, state: str,
                      challenge: str) -> str:
    params = {provider.client_id_field: client_id, "redirect_uri": redirect_uri,
              "response_type": "code", "scope": provider.scope_separator.join(provider.scopes),
              "state": state}
    if challenge:
        params |= {"code_challenge": challenge, "code_challenge_method": "S256"}
    params |= dict(provider.extra_authorize)
    return f"{provider.authorize_url}?{urlencode(params)}"


def refresh(provider: Provider, client_id: str, client_secret: str | None, tokens: Tokens, *,
            http: httpx.Client | None = None) -> Tokens:
    """Fresh tokens for ``tokens``; the refresh token is kept where the answer leaves it out."""
    with http_session(http, TIMEOUT) as client:
        if provider.platform == "instagram":
            answer = _call(client, provider, "GET", provider.graph_host + "/refresh_access_token",
                           params={"grant_type": "ig_refresh_token", "access_token": tokens.access_token})
            return replace(tokens, access_token=_field(provider, answer, "access_token"),
                           expires_at=_expiry(answer.get("expires_in")))
        if not tokens.refresh_token:
            raise OAuthError(f"{provider.label} gave no refresh token; connect {provider.label} again.",
                             reconnect=True)
        form = {provider.client_id_field: client_id, "grant_type": "refresh_token",
                "refresh_token": tokens.refresh_token}
        if client_secret:
            form["client_secret"] = client_secret
        answer = _call(client, provider, "POST", provider.token_url, data=form)
    fresh = _tokens_from(provider, answer)
    return replace(fresh, refresh_token=fresh.refresh_token or tokens.refresh_token,
                   refresh_expires_at=fresh.refresh_expires_at or tokens.refresh_expires_at,
                   scopes=fresh.scopes or tokens.scopes, account_id=fresh.account_id or tokens.account_id,
                   account_name=tokens.account_name)


def revoke(provider: Provider, client_id: str, client_secret: str | None, tokens: Tokens, *,
           http: httpx.Client | None = None) -> bool:
    """Withdraws the studio's access at the platform; False where it has no revoke endpoint."""
    if not provider.revoke_url:
        return False
    if provider.platform == "youtube":  # Google revokes the grant through either token
        form = {"token": tokens.refresh_token or tokens.access_token}
    else:
        form = {provider.client_id_field: client_id, "client_secret": client_secret or "",
                "token": tokens.access_token}
    with http_session(http, TIMEOUT) as client:
        _call(client, provider, "POST", provider.revoke_url, data=form)
    return True


class _Loopback:
    """A one-shot HTTP server on 127.0.0.1 (a free port) that catches the browser's redirect."""

    def __init__(self, label: str, port: int = 0) -> None:
        self._done = threading.Event()
        self._answer: dict[str, str] = {}
        try:
            self._server = HTTPServer(("127.0.0.1", port), self._handler(label))
        except OSError as exc:
            raise OAuthError(f"The sign-in could not listen on 127.0.0.1:{port} ({exc.strerror}); "
                             "close what uses that port or choose another.") from exc
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.1},
                                        name="oauth-loopback", daemon=True)

    @property
    def redirect_uri(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}{CALLBACK_PATH}"

    def __enter__(self) -> _Loopback:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def wait(self, timeout_s: float) -> dict[str, str]:
        if not self._done.wait(timeout_s):
            minutes = f"{timeout_s / 60:g} minutes" if timeout_s >= 60 else f"{timeout_s:g} s"
            raise OAuthError(f"The sign-in timed out after {minutes}: the browser never came back "
                             "to the studio. Try connecting again.", transient=True)
        return self._answer

    def _handler(self, label: str) -> type[BaseHTTPRequestHandler]:
        loopback = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # the name http.server calls
                parsed = urlparse(self.path)
                answer = {k: v[0] for k, v in parse_qs(parsed.query).items()}
                # Only the platform's redirect (a code or an error) ends the wait: a stray
                # request (a favicon, a local process probing the port) is turned away.
                if parsed.path != CALLBACK_PATH or loopback._done.is_set() or not answer.keys() & {"code", "error"}:
                    self.send_error(404)
                    return
                loopback._answer = answer
                denied = "error" in loopback._answer
                title = f"{label} said no; nothing was connected." if denied else f"{label} answered."
                body = _PAGE.format(title=title).encode("utf-8")
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                loopback._done.set()

            def log_message(self, format: str, *args: Any) -> None:
                pass  # the query holds the code: never logged

        return Handler


def _code_from(provider: Provider, answer: Mapping[str, str], state: str) -> str:
    if "error" in answer:
        reason = answer.get("error_description") or answer.get("error_reason") or answer["error"]
        if answer["error"] == "access_denied":
            raise OAuthError(f"{provider.label} sign-in was cancelled: {_line(reason)}.")
        raise OAuthError(f"{provider.label} refused the sign-in: {_line(reason)}.")
    if not secrets.compare_digest(answer.get("state", ""), state):
        raise OAuthError(f"{provider.label} sign-in refused: the answer did not carry the state the "
                         "studio sent (another sign-in or a forged page). Nothing was connected.")
    code = answer.get("code", "").split("#", 1)[0]  # Instagram appends "#_" to the redirect
    if not code:
        raise OAuthError(f"{provider.label} came back without an authorization code.")
    return code


def _exchange(client: httpx.Client, provider: Provider, client_id: str, client_secret: str | None,
              code: str, redirect_uri: str, verifier: str) -> Tokens:
    form = {provider.client_id_field: client_id, "grant_type": "authorization_code", "code": code,
            "redirect_uri": redirect_uri}
    if client_secret:
        form["client_secret"] = client_secret
    if verifier:
        form["code_verifier"] = verifier
    return _tokens_from(provider, _call(client, provider, "POST", provider.token_url, data=form,
                                        signing_in=True))


def _instagram_long_lived(client: httpx.Client, provider: Provider, client_secret: str,
                          short: Tokens) -> Tokens:
    answer = _call(client, provider, "GET", provider.graph_host + "/access_token",
                   params={"grant_type": "ig_exchange_token", "client_secret": client_secret,
                           "access_token": short.access_token}, signing_in=True)
    return replace(short, access_token=_field(provider, answer, "access_token"),
                   expires_at=_expiry(answer.get("expires_in")))


def _tokens_from(provider: Provider, answer: dict[str, Any]) -> Tokens:
    if isinstance(answer.get("data"), list) and answer["data"]:  # Instagram's {"data": [{...}]}
        answer = answer["data"][0]
    scopes = answer.get("scope", answer.get("permissions", ""))
    if isinstance(scopes, str):
        scopes = [s for s in scopes.replace(",", " ").split() if s]
    return Tokens(access_token=_field(provider, answer, "access_token"),
                  refresh_token=str(answer.get("refresh_token") or ""),
                  expires_at=_expiry(answer.get("expires_in")), scopes=tuple(str(s) for s in scopes),
                  account_id=str(answer.get("user_id") or answer.get("open_id") or ""),
                  refresh_expires_at=_expiry(answer.get("refresh_expires_in")))


def _call(client: httpx.Client, provider: Provider, method: str, url: str, *, signing_in: bool = False,
          **kwargs: Any) -> dict[str, Any]:
    try:
        response = client.request(method, url, **kwargs)
    except httpx.HTTPError as exc:
        raise OAuthError(f"{provider.label} could not be reached ({type(exc).__name__}); "
                         "check the connection and try again.", transient=True) from exc
    try:
        body = response.json() if response.content else {}
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    problem = _problem(body)
    if response.status_code >= 400 or problem:
        raise _error(provider, response.status_code, problem or response.reason_phrase, body, signing_in)
    return body


def _problem(body: dict[str, Any]) -> str:
    """The error an answer carries in any of the platforms' shapes, or ""."""
    error = body.get("error")
    if isinstance(error, str) and error:
        return error
    if isinstance(error, dict):  # the Graph API's {"error": {"message", "code", ...}}
        return str(error.get("message") or error.get("type") or "error")
    if body.get("error_type"):  # api.instagram.com's {"error_type", "code", "error_message"}
        return str(body.get("error_message") or body["error_type"])
    return ""


def _error(provider: Provider, status: int, problem: str, body: dict[str, Any],
           signing_in: bool) -> OAuthError:
    """While signing in, a refused code is the sign-in's failure; later, a grant gone for good."""
    label = provider.label
    graph: dict[str, Any] = body["error"] if isinstance(body.get("error"), dict) else {}
    if not signing_in and (problem == "invalid_grant" or graph.get("code") == 190):
        return OAuthError(f"{label}: the connection expired or was revoked; reconnect {label} in "
                          "Preferences → Automation.", reconnect=True)
    if status == 429 or status >= 500:
        return OAuthError(f"{label} is busy (HTTP {status}); try again in a moment.", transient=True)
    detail = body.get("error_description") or graph.get("message") or problem
    return OAuthError(f"{label} refused the request: {_line(str(detail))}.")


def _field(provider: Provider, answer: Mapping[str, Any], name: str) -> str:
    value = answer.get(name)
    if not value:
        raise OAuthError(f"{provider.label}'s answer had no {name}.")
    return str(value)




def _expiry(seconds: object) -> datetime | None:
    try:
        value = float(seconds)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return _now() + timedelta(seconds=value) if value > 0 else None


def _now() -> datetime:
    return datetime.now(UTC)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _parse_iso(value: object) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) and value else None


def _line(text: str) -> str:
    return " ".join(str(text).split()).rstrip(".")
