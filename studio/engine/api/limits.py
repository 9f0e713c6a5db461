"""Limits every request meets before a route sees it: requests per minute per token (429 with
Retry-After) and the body's size (413, said before the body is read when its length is declared,
and as soon as a streamed body passes the limit otherwise). Plain ASGI, so an upload over the
limit is never spooled to disk first."""
from __future__ import annotations

import hashlib
import json
import math
import threading
import time
from collections import deque
from collections.abc import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

WINDOW_S = 60.0


class RateWindow:
    """At most ``limit`` requests per key in any 60 seconds (a sliding window of times)."""

    def __init__(self, limit: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self._clock = clock
        self._seen: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def wait_s(self, key: str) -> float:
        """0 when the request may go (it is counted), else the seconds until it may."""
        now = self._clock()
        with self._lock:
            times = self._seen.setdefault(key, deque())
            while times and now - times[0] >= WINDOW_S:
                times.popleft()
            if len(times) < self.limit:
                times.append(now)
                return 0.0
            return WINDOW_S - (now - times[0])


class BodyTooLarge(Exception):
    """A streamed body went past the limit."""


class Limits:
    """The ASGI middleware: ``max_body`` bytes, ``window`` requests per token and minute."""

    def __init__(self, app: ASGIApp, *, window: RateWindow, max_body: int) -> None:
        self.app = app
        self.window = window
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        wait = self.window.wait_s(_caller_key(scope, headers))
        if wait > 0:
            await _answer(send, 429, "Too many requests for this token; try again in a minute.",
                          [(b"retry-after", str(math.ceil(wait)).encode())])
            return
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_body:
            await _answer(send, 413, self._too_large())
            return
        await self._counted(scope, receive, send)

    async def _counted(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Passes the request on, counting its body as it is read. Past the limit, whatever the
        app answers to the broken read (FastAPI makes it a 400) is dropped for a 413."""
        state = {"read": 0, "over": False, "started": False}

        async def counting_receive() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                state["read"] += len(message.get("body", b""))
                if state["read"] > self.max_body:
                    state["over"] = True
                    raise BodyTooLarge
            return message

        async def guarded_send(message: Message) -> None:
            if not state["over"]:
                state["started"] = state["started"] or message["type"] == "http.response.start"
                await send(message)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except BodyTooLarge:
            pass
        if state["over"] and not state["started"]:
            await _answer(send, 413, self._too_large())

    def _too_large(self) -> str:
        return f"The request body is over the limit of {self.max_body // (1024 * 1024)} MB (api.max_body_mb)."


def _caller_key(scope: Scope, headers: dict[str, str]) -> str:
    """The token (hashed: no token is kept in memory in clear), else the client's address."""
    auth = headers.get("authorization", "")
    if auth:
        return "t:" + hashlib.sha256(auth.encode("utf-8")).hexdigest()
    client = scope.get("client") or ("", 0)
    return f"a:{client[0]}"


async def _answer(send: Send, status: int, detail: str,
                  extra: list[tuple[bytes, bytes]] | None = None) -> None:
    body = json.dumps({"detail": detail}).encode("utf-8")
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
               *(extra or [])]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
