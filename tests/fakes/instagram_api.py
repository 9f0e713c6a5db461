"""A real HTTP server speaking the Instagram API with Instagram Login (graph.instagram.com).

What it follows (studio/engine/publish/instagram.py and oauth.py cite the documentation):

- ``GET /access_token?grant_type=ig_exchange_token&client_secret&access_token`` → a long-lived
  token ``{"access_token", "token_type": "bearer", "expires_in"}``;
  ``GET /refresh_access_token?grant_type=ig_refresh_token&access_token`` → a new one;
  ``GET /me?fields=user_id,username``.
- ``GET /<IG_ID>/content_publishing_limit`` → ``{"data": [{"quota_usage", "config":
  {"quota_total", "quota_duration"}}]}``.
- ``POST /<IG_ID>/media`` (form fields): ``image_url``; ``media_type=REELS`` + ``video_url``
  (+ ``cover_url``); ``is_carousel_item=true`` items; ``media_type=CAROUSEL`` + ``children``
  (2-10 ids of carousel items). Answers ``{"id"}``.
- ``GET /<CONTAINER_ID>?fields=status_code,status``: ``IN_PROGRESS`` for ``polls`` reads (videos;
  pictures ``picture_polls``), then ``FINISHED`` — or ``ERROR`` with a reason when a test set
  ``container_error``; ``PUBLISHED`` once published.
- ``POST /<IG_ID>/media_publish`` with ``creation_id`` (a FINISHED container, else error 9007),
  ``GET /<MEDIA_ID>?fields=permalink``.
- Errors as the Graph API sends them: ``{"error": {"message", "type", "code", "error_subcode",
  "fbtrace_id"}}``; an expired token is code 190 (subcode 463). ``then`` queues whole answers
  (a 429 with Retry-After, a 500) served before the next requests.

The access token comes as the ``access_token`` parameter (query or form), as documented; a
leading Graph API version (``/v24.0``) in the path is accepted and ignored.
"""
from __future__ import annotations

import itertools
import json
import re
import secrets
from collections import deque
from collections.abc import Container
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlparse

from tests.fakes.local_server import LocalServer

_ids = itertools.count(17_900_000_000_000_001)
_VERSION = re.compile(r"^/v\d+(\.\d+)?(?=/)")
Answer = tuple[int, dict[str, str], dict[str, Any]]


@dataclass(slots=True)
class IgContainer:
    id: str
    fields: dict[str, str]
    polls_left: int
    error: str = ""
    published: bool = False


@dataclass(slots=True)
class FakeInstagram:
    user_id: str = "17841400000000001"
    username: str = "mia.moreno"
    client_secret: str = "studio-secret"
    tokens: set[str] = field(default_factory=lambda: {"IGAA-long-lived"})
    short_tokens: Container[str] | None = None  # None: any short-lived token is taken
    expired: set[str] = field(default_factory=set)
    polls: int = 2
    picture_polls: int = 0
    quota_usage: int = 0
    quota_total: int = 100
    container_error: str = ""
    containers: dict[str, IgContainer] = field(default_factory=dict)
    published: list[IgContainer] = field(default_factory=list)
    received: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)
    queued: deque[Answer] = field(default_factory=deque)
    _server: LocalServer | None = None

    def __post_init__(self) -> None:
        self._server = LocalServer(_handler(self))

    @property
    def url(self) -> str:
        assert self._server is not None
        return self._server.url

    def __enter__(self) -> FakeInstagram:
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()

    def then(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> FakeInstagram:
        self.queued.append((status, headers or {}, body))
        return self

    def rate_limited(self, retry_after: str = "3") -> FakeInstagram:
        return self.then(429, _error(4, "Application request limit reached", subcode=2207051),
                         {"Retry-After": retry_after})

    def paths(self, method: str = "") -> list[str]:
        return [p for m, p, _ in self.received if not method or m == method]

    # --- the endpoints -------------------------------------------------------------------

    def answer(self, method: str, path: str, params: dict[str, str]) -> Answer:
        if self.queued:
            return self.queued.popleft()
        if path == "/access_token":
            return self._exchange(params)
        token = params.get("access_token", "")
        if token in self.expired:
            return 400, {}, _error(190, "Error validating access token: Session has expired.", subcode=463)
        if token not in self.tokens:
            return 400, {}, _error(190, "Invalid OAuth access token - Cannot parse access token")
        if path == "/refresh_access_token":
            return self._refresh(params)
        if path == "/me":
            return 200, {}, {"user_id": self.user_id, "username": self.username, "id": "app-scoped-9"}
        return self._publishing(method, path, params)

    def _exchange(self, params: dict[str, str]) -> Answer:
        short = params.get("access_token", "")
        known = self.short_tokens is None or short in self.short_tokens
        secret_ok = params.get("client_secret") == self.client_secret
        if params.get("grant_type") != "ig_exchange_token" or not secret_ok or not short or not known:
            return 400, {}, _error(100, "Invalid parameter: client_secret or access_token")
        return 200, {}, self._issue()

    def _refresh(self, params: dict[str, str]) -> Answer:
        if params.get("grant_type") != "ig_refresh_token":
            return 400, {}, _error(100, "Unsupported grant_type")
        return 200, {}, self._issue()

    def _issue(self) -> dict[str, Any]:
        token = f"IGAA{secrets.token_hex(12)}"
        self.tokens.add(token)
        return {"access_token": token, "token_type": "bearer", "expires_in": 5183944}

    def _publishing(self, method: str, path: str, params: dict[str, str]) -> Answer:
        parts = path.strip("/").split("/")
        if len(parts) == 2 and parts[0] == self.user_id:
            edge = parts[1]
            if edge == "content_publishing_limit" and method == "GET":
                return 200, {}, {"data": [{"quota_usage": self.quota_usage,
                                           "config": {"quota_total": self.quota_total, "quota_duration": 86400}}]}
            if edge == "media" and method == "POST":
                return self._create(params)
            if edge == "media_publish" and method == "POST":
                return self._publish(params.get("creation_id", ""))
        if len(parts) == 1 and method == "GET":
            return self._read(parts[0])
        return 400, {}, _error(100, f"Unsupported {method} request to {path}")

    def _create(self, f: dict[str, str]) -> Answer:
        problem = self._container_problem(f)
        if problem:
            return 400, {}, _error(100, problem)
        video = f.get("media_type") in ("REELS", "VIDEO")
        polls = self.polls if video or f.get("media_type") == "CAROUSEL" else self.picture_polls
        fields = {k: v for k, v in f.items() if k != "access_token"}
        c = IgContainer(str(next(_ids)), fields, polls, self.container_error)
        self.containers[c.id] = c
        return 200, {}, {"id": c.id}

    def _container_problem(self, f: dict[str, str]) -> str:
        kind = f.get("media_type", "IMAGE")
        urls = [f[k] for k in ("image_url", "video_url", "cover_url") if k in f]
        if any(not u.startswith(("http://", "https://")) for u in urls):
            return "Only photo or video can be accepted as media type."  # Instagram cannot fetch it
        if kind == "CAROUSEL":
            children = [c for c in f.get("children", "").split(",") if c]
            if not 2 <= len(children) <= 10:
                return "The carousel must have between 2 and 10 children."
            if any(c not in self.containers or self.containers[c].fields.get("is_carousel_item") != "true"
                   for c in children):
                return "The children must be carousel item containers."
            return ""
        if kind == "REELS" and "video_url" not in f:
            return "The parameter video_url is required"
        if kind == "IMAGE" and "image_url" not in f:
            return "The parameter image_url is required"
        return ""

    def _read(self, object_id: str) -> Answer:
        if object_id in self.containers:
            c = self.containers[object_id]
            if c.published:
                return 200, {}, {"status_code": "PUBLISHED", "status": "Published", "id": c.id}
            if c.polls_left > 0:
                c.polls_left -= 1
                return 200, {}, {"status_code": "IN_PROGRESS", "status": "In Progress", "id": c.id}
            if c.error:
                return 200, {}, {"status_code": "ERROR", "status": c.error, "id": c.id}
            return 200, {}, {"status_code": "FINISHED", "status": "Finished: Media has been uploaded",
                             "id": c.id}
        for n, c in enumerate(self.published):
            if f"m{c.id}" == object_id:
                return 200, {}, {"permalink": f"https://www.instagram.com/p/FAKE{n}/", "id": object_id}
        return 400, {}, _error(100, f"Unsupported get request. Object with ID '{object_id}' does not exist")

    def _publish(self, creation_id: str) -> Answer:
        c = self.containers.get(creation_id)
        if c is None or c.polls_left > 0 or c.error or c.published:
            return 400, {}, _error(9007, "Media ID is not available", subcode=2207027)
        if self.quota_usage >= self.quota_total:
            return 400, {}, _error(9, "Application request limit reached", subcode=2207042)
        c.published = True
        self.published.append(c)
        self.quota_usage += 1
        return 200, {}, {"id": f"m{c.id}"}


def _error(code: int, message: str, *, subcode: int | None = None) -> dict[str, Any]:
    error: dict[str, Any] = {"message": message, "type": "OAuthException", "code": code,
                             "fbtrace_id": secrets.token_urlsafe(8)}
    if subcode is not None:
        error["error_subcode"] = subcode
    return {"error": error}


def _handler(fake: FakeInstagram) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self._serve("GET", {})

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
            self._serve("POST", form)

        def _serve(self, method: str, form: dict[str, str]) -> None:
            parsed = urlparse(self.path)
            params = {k: v[0] for k, v in parse_qs(parsed.query).items()} | form
            path = _VERSION.sub("", parsed.path)
            fake.received.append((method, path, params))
            status, headers, body = fake.answer(method, path, params)
            data = json.dumps(body).encode()
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
