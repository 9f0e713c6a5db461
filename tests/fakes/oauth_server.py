"""A real HTTP authorization server standing in for Instagram's, TikTok's and Google's.

It serves each platform's own paths and answers in its shapes (see
studio/engine/publish/providers.py for the documented requests):

- the authorization page redirects straight back to ``redirect_uri`` with ``code`` and
  ``state`` (or ``error=access_denied`` when ``deny`` is set; another state when
  ``wrong_state`` is set), after checking the client id, a loopback ``redirect_uri``,
  ``response_type=code``, the scopes and, where the platform takes PKCE, an S256 challenge;
- the token endpoint trades a code once (client id, client secret, the same ``redirect_uri``,
  and the PKCE verifier checked against the challenge: base64url for Google, hex for TikTok)
  and refreshes (TikTok rotates the refresh token; Google keeps it and leaves it out of the
  answer); a revoked or unknown refresh token gets ``invalid_grant``;
- the revoke endpoint forgets a token;
- who-am-I: TikTok's ``/v2/user/info/`` and YouTube's ``/youtube/v3/channels?mine=true``, so
  a test can point a platform's ``base_url`` here too.

Tests drive the browser with ``browser``: it fetches the authorization URL and follows the
redirect to the studio's loopback server, as a browser would.
"""
from __future__ import annotations

import base64
import hashlib
import itertools
import json
import secrets
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

import httpx

from tests.fakes.local_server import LocalServer

PATHS = {  # platform: (authorize, token, revoke)
    "instagram": ("/oauth/authorize", "/oauth/access_token", ""),
    "tiktok": ("/v2/auth/authorize/", "/v2/oauth/token/", "/v2/oauth/revoke/"),
    "youtube": ("/o/oauth2/v2/auth", "/token", "/revoke"),
}
CHALLENGE = {"instagram": "", "tiktok": "hex", "youtube": "base64url"}
_ids = itertools.count(1)


@dataclass(slots=True)
class Grant:
    client_id: str
    redirect_uri: str
    scopes: list[str]
    challenge: str


@dataclass(slots=True)
class FakeOAuthServer:
    platform: str
    client_id: str = "studio-client"
    client_secret: str = "studio-secret"
    expires_in: int = 3600
    deny: bool = False
    wrong_state: bool = False
    account: tuple[str, str] = ("acct-1", "Mia Moreno")  # the signed-in user's id and name
    received: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)  # method, path, params
    grants: dict[str, Grant] = field(default_factory=dict)
    access: dict[str, str] = field(default_factory=dict)  # live access token → its refresh token
    refresh_tokens: set[str] = field(default_factory=set)
    revoked: list[str] = field(default_factory=list)
    _server: LocalServer | None = None

    def __post_init__(self) -> None:
        self._server = LocalServer(_handler(self))

    @property
    def url(self) -> str:
        assert self._server is not None
        return self._server.url

    def close(self) -> None:
        if self._server is not None:
            self._server.close()

    def __enter__(self) -> FakeOAuthServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def browser(self, url: str) -> bool:
        """What the user's browser does: open the consent page, follow its redirect home."""
        with httpx.Client(follow_redirects=True, timeout=10) as client:
            client.get(url)
        return True

    def requests_to(self, path: str) -> list[dict[str, str]]:
        return [params for _, p, params in self.received if p == path]

    # --- the endpoints -------------------------------------------------------------------

    def authorize(self, q: dict[str, str]) -> tuple[int, dict[str, str], Any]:
        client_field = "client_key" if self.platform == "tiktok" else "client_id"
        redirect = q.get("redirect_uri", "")
        problem = self._authorize_problem(q, client_field, redirect)
        if problem:
            return 400, {}, {"error": "invalid_request", "error_description": problem}
        state = "not-" + q["state"] if self.wrong_state else q["state"]
        if self.deny:
            answer = {"error": "access_denied", "error_description": "The user denied your request",
                      "state": state}
            if self.platform == "instagram":
                answer["error_reason"] = "user_denied"
            return 302, {"Location": f"{redirect}?{urlencode(answer)}"}, None
        code = f"code-{next(_ids)}-{secrets.token_hex(4)}"
        self.grants[code] = Grant(q[client_field], redirect, q["scope"].replace(",", " ").split(),
                                  q.get("code_challenge", ""))
        suffix = "#_" if self.platform == "instagram" else ""  # Instagram appends it, as documented
        return 302, {"Location": f"{redirect}?{urlencode({'code': code, 'state': state})}{suffix}"}, None

    def _authorize_problem(self, q: dict[str, str], client_field: str, redirect: str) -> str:
        if q.get(client_field) != self.client_id:
            return f"{client_field} is not a registered app"
        if not redirect.startswith("http://127.0.0.1:") or q.get("response_type") != "code":
            return "redirect_uri must be a loopback address and response_type code"
        if not q.get("scope") or not q.get("state"):
            return "scope and state are required"
        if CHALLENGE[self.platform] and (not q.get("code_challenge")
                                         or q.get("code_challenge_method") != "S256"):
            return "code_challenge with code_challenge_method S256 is required"
        return ""

    def token(self, form: dict[str, str]) -> tuple[int, dict[str, str], Any]:
        client_field = "client_key" if self.platform == "tiktok" else "client_id"
        if form.get(client_field) != self.client_id or form.get("client_secret") != self.client_secret:
            return self._error("invalid_client", "Client authentication failed")
        if form.get("grant_type") == "authorization_code":
            return self._trade_code(form)
        if form.get("grant_type") == "refresh_token":
            return self._refresh(form.get("refresh_token", ""))
        return self._error("unsupported_grant_type", "grant_type is not supported")

    def _trade_code(self, form: dict[str, str]) -> tuple[int, dict[str, str], Any]:
        grant = self.grants.pop(form.get("code", ""), None)
        if grant is None or grant.redirect_uri != form.get("redirect_uri"):
            return self._error("invalid_grant", "The authorization code is invalid or was used")
        if CHALLENGE[self.platform] and _challenge(self.platform, form.get("code_verifier", "")) != grant.challenge:
            return self._error("invalid_grant", "Code verifier or code challenge is invalid.")
        return 200, {}, self._issue(grant.scopes)

    def _refresh(self, refresh_token: str) -> tuple[int, dict[str, str], Any]:
        if refresh_token not in self.refresh_tokens:
            return self._error("invalid_grant", "Token has been expired or revoked.")
        answer = self._issue(["user.info.basic"] if self.platform == "tiktok" else [],
                             refresh=refresh_token if self.platform == "youtube" else "")
        if self.platform == "tiktok":  # rotated: the old one stops working
            self.refresh_tokens.discard(refresh_token)
        if self.platform == "youtube":
            answer.pop("refresh_token")
        return 200, {}, answer

    def _issue(self, scopes: list[str], refresh: str = "") -> dict[str, Any]:
        n = next(_ids)
        access = f"{self.platform}-access-{n}-{secrets.token_hex(6)}"
        refresh = refresh or f"{self.platform}-refresh-{n}-{secrets.token_hex(6)}"
        self.access[access] = refresh
        self.refresh_tokens.add(refresh)
        if self.platform == "instagram":  # short-lived token, user id and permissions
            return {"data": [{"access_token": access, "user_id": self.account[0],
                              "permissions": ",".join(scopes)}]}
        answer: dict[str, Any] = {"access_token": access, "expires_in": self.expires_in,
                                  "refresh_token": refresh, "token_type": "Bearer"}
        if self.platform == "tiktok":
            answer |= {"open_id": self.account[0], "scope": ",".join(scopes),
                       "refresh_expires_in": 31536000}
        else:
            answer["scope"] = " ".join(scopes)
        return answer

    def revoke(self, form: dict[str, str]) -> tuple[int, dict[str, str], Any]:
        token = form.get("token", "")
        self.revoked.append(token)
        self.refresh_tokens.discard(token)
        self.refresh_tokens.discard(self.access.pop(token, ""))
        return 200, {}, {}

    def whoami(self, path: str, bearer: str) -> tuple[int, dict[str, str], Any]:
        if bearer not in self.access:
            return 401, {}, {"error": {"code": "access_token_invalid", "message": "The access token is invalid"}}
        if path == "/v2/user/info/":
            user = {"open_id": self.account[0], "display_name": self.account[1]}
            return 200, {}, {"data": {"user": user}, "error": {"code": "ok", "message": ""}}
        return 200, {}, {"kind": "youtube#channelListResponse",
                         "items": [{"id": self.account[0], "snippet": {"title": self.account[1]}}]}

    def _error(self, error: str, description: str) -> tuple[int, dict[str, str], Any]:
        if self.platform == "instagram":
            return 400, {}, {"error_type": "OAuthException", "code": 400, "error_message": description}
        body = {"error": error, "error_description": description}
        if self.platform == "tiktok":
            body["log_id"] = secrets.token_hex(8)
        return 400, {}, body


def _challenge(platform: str, verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    if CHALLENGE[platform] == "hex":
        return digest.hex()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _handler(fake: FakeOAuthServer) -> type[BaseHTTPRequestHandler]:
    authorize_path, token_path, revoke_path = PATHS[fake.platform]

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parsed = urlparse(self.path)
            query = {k: v[0] for k, v in parse_qs(parsed.query).items()}
            fake.received.append(("GET", parsed.path, query))
            if parsed.path == authorize_path:
                self._send(*fake.authorize(query))
            elif parsed.path in ("/v2/user/info/", "/youtube/v3/channels"):
                bearer = self.headers.get("Authorization", "").removeprefix("Bearer ")
                self._send(*fake.whoami(parsed.path, bearer))
            else:
                self._send(404, {}, {"error": "not_found"})

        def do_POST(self) -> None:
            parsed = urlparse(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
            fake.received.append(("POST", parsed.path, form))
            if parsed.path == token_path:
                self._send(*fake.token(form))
            elif revoke_path and parsed.path == revoke_path:
                self._send(*fake.revoke(form))
            else:
                self._send(404, {}, {"error": "not_found"})

        def _send(self, status: int, headers: dict[str, str], body: Any) -> None:
            data = json.dumps(body).encode() if body is not None else b""
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler
