"""A real HTTP server speaking the YouTube Data API v3's resumable upload, as Google documents it.

- ``POST /upload/youtube/v3/videos?uploadType=resumable&part=snippet,status`` with the video
  resource (JSON) and ``X-Upload-Content-Length`` / ``X-Upload-Content-Type``: 200 with the
  session URI in ``Location``. A title over 100 characters or with ``<``/``>`` is 400
  ``invalidTitle``; with no quota left, 403 ``quotaExceeded`` (domain youtube.quota).
- ``PUT`` session URI with ``Content-Range: bytes FIRST-LAST/TOTAL``: FIRST must be the next byte
  the server needs and every chunk but the last a multiple of 256 KiB (else 400); ``308 Resume
  Incomplete`` with ``Range: bytes=0-N`` while bytes remain, ``201 Created`` with the video
  resource when the last byte is in.
- ``PUT`` with ``Content-Range: bytes */TOTAL`` and no body: where the upload stands (308 with the
  Range, no Range when nothing is held; 201 with the resource when complete).
- ``cut_at(byte)``: the connection is closed in the middle of the chunk that holds that byte,
  after the body up to it was read; the server keeps what it got, rounded down to 256 KiB, as a
  real one may keep less than it read. ``fail_next_put(503)`` answers a chunk with that error and
  keeps nothing of it (404: the session has expired; 308: the bytes held so far, none of the
  chunk's). An unknown or expired session is 404.

Errors are Google's JSON: ``{"error": {"code", "message", "errors": [{"message", "domain",
"reason"}], "status"}}``; a bearer token that is not ``token`` gets 401 ``authError``.

    with FakeYouTube() as youtube:
        client = YouTubeClient(youtube.api_url, youtube.upload_url, lambda: youtube.token)
"""
from __future__ import annotations

import itertools
import json
import re
import socket
import threading
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlparse

from tests.fakes.local_server import LocalServer

UNIT = 256 * 1024
UPLOAD_PATH = "/upload/youtube/v3/videos"
_ids = itertools.count(1)
_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+)$")
_ASK = re.compile(r"bytes \*/(\d+)$")


@dataclass(frozen=True, slots=True)
class Received:
    kind: str  # "open", "chunk", "ask"
    headers: dict[str, str]
    body: Any  # the resource (open), the chunk's Content-Range (chunk), None (ask)


@dataclass(slots=True)
class Session:
    upload_id: str
    total: int
    mime: str
    resource: dict[str, Any]
    data: bytearray = field(default_factory=bytearray)
    video_id: str = ""

    def held(self) -> dict[str, str]:
        return {"Range": f"bytes=0-{len(self.data) - 1}"} if self.data else {}


class FakeYouTube:
    def __init__(self, *, quota_left: int = 100) -> None:
        self.token = "ya29.fake-token"
        self.quota_left = quota_left  # uploads left today (videos.insert's own bucket)
        self.received: list[Received] = []
        self.sessions: dict[str, Session] = {}
        self.cuts: list[int] = []  # absolute byte positions where a chunk's connection is cut
        self.put_failures: deque[int] = deque()  # statuses the next chunks get instead
        self.open_failures: deque[tuple[int, dict[str, str]]] = deque()
        self._lock = threading.Lock()
        self._server = LocalServer(_handler(self))

    @property
    def root(self) -> str:
        return self._server.url

    @property
    def api_url(self) -> str:
        return f"{self.root}/youtube/v3"

    @property
    def upload_url(self) -> str:
        return f"{self.root}/upload/youtube/v3"

    def __enter__(self) -> FakeYouTube:
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.close()

    def cut_at(self, *positions: int) -> FakeYouTube:
        self.cuts.extend(positions)
        return self

    def fail_next_put(self, *statuses: int) -> FakeYouTube:
        self.put_failures.extend(statuses)
        return self

    def fail_next_open(self, status: int, retry_after: str | None = None) -> FakeYouTube:
        self.open_failures.append((status, {"Retry-After": retry_after} if retry_after else {}))
        return self

    def calls(self, kind: str) -> list[Received]:
        return [r for r in self.received if r.kind == kind]

    def video(self, video_id: str) -> bytes:
        return next(bytes(s.data) for s in self.sessions.values() if s.video_id == video_id)

    # Answers: (status, JSON body or None, headers) ----------------------------------------------

    def open(self, headers: dict[str, str], query: dict[str, list[str]],
             body: Any) -> tuple[int, Any, dict[str, str]]:
        self.received.append(Received("open", headers, body))
        if headers.get("authorization") != f"Bearer {self.token}":
            return 401, google_error(401, "Request had invalid authentication credentials.",
                                     "authError", "global", "UNAUTHENTICATED"), {}
        if self.open_failures:
            status, extra = self.open_failures.popleft()
            reason = "rateLimitExceeded" if status == 429 else "backendError"
            return status, google_error(status, "Try again later.", reason, "global"), extra
        problem = _open_problem(headers, query, body)
        if problem:
            return 400, google_error(400, problem[1], problem[0], "youtube.video"), {}
        if self.quota_left <= 0:
            return 403, google_error(403, "The request cannot be completed because you have "
                                     'exceeded your <a href="/youtube/v3/getting-started#quota">'
                                     "quota</a>.", "quotaExceeded", "youtube.quota"), {}
        self.quota_left -= 1
        upload_id = f"ABPtcPp{next(_ids):012d}"
        self.sessions[upload_id] = Session(upload_id, int(headers["x-upload-content-length"]),
                                           headers.get("x-upload-content-type", ""), body)
        location = f"{self.root}{UPLOAD_PATH}?uploadType=resumable&upload_id={upload_id}"
        return 200, None, {"Location": location}

    def session(self, query: dict[str, list[str]]) -> Session | None:
        return self.sessions.get((query.get("upload_id") or [""])[0])

    def ask(self, session: Session) -> tuple[int, Any, dict[str, str]]:
        self.received.append(Received("ask", {}, None))
        if session.video_id:
            return 201, self._resource(session), {}
        return 308, None, session.held()

    def chunk(self, session: Session, headers: dict[str, str],
              read: Any) -> tuple[int, Any, dict[str, str]] | None:
        """Reads the chunk with ``read(n)``; None when the connection is to be cut."""
        match = _RANGE.match(headers.get("content-range", ""))
        length = int(headers.get("content-length") or 0)
        self.received.append(Received("chunk", headers, headers.get("content-range", "")))
        if match is None or int(match.group(3)) != session.total:
            read(length)
            return 400, google_error(400, "Failed to parse Content-Range header.", "badRequest",
                                     "global"), {}
        first, last = int(match.group(1)), int(match.group(2))
        cut = next((c for c in self.cuts if first <= c <= last), None)
        if cut is not None:
            self.cuts.remove(cut)
            got = read(cut - first)
            session.data += got
            del session.data[len(session.data) // UNIT * UNIT:]
            return None
        body = read(length)
        return self._store(session, first, last, body)

    def _store(self, session: Session, first: int, last: int,
               body: bytes) -> tuple[int, Any, dict[str, str]]:
        if self.put_failures:
            status = self.put_failures.popleft()
            if status == 404:
                return 404, google_error(404, "Not Found", "notFound", "global"), {}
            if status == 308:  # a server that took nothing of the chunk
                return 308, None, session.held()
            return status, google_error(status, "Backend Error", "backendError", "global"), {}
        final = last == session.total - 1
        if first != len(session.data) or len(body) != last - first + 1 or (
                not final and len(body) % UNIT):
            return 400, google_error(400, "Chunks must follow the held bytes and be multiples "
                                     "of 256 KiB, but the last.", "badRequest", "global"), {}
        session.data += body
        if not final:
            return 308, None, session.held()
        session.video_id = f"yt{next(_ids):09d}"
        return 201, self._resource(session), {}

    def _resource(self, session: Session) -> dict[str, Any]:
        snippet = dict(session.resource.get("snippet") or {})
        status = dict(session.resource.get("status") or {})
        return {
            "kind": "youtube#video", "etag": f"etag-{session.video_id}", "id": session.video_id,
            "snippet": {**snippet, "publishedAt": "2026-12-06T05:00:00Z",
                        "channelId": "UCfakechannel000000000000", "liveBroadcastContent": "none"},
            "status": {"uploadStatus": "uploaded", "privacyStatus": status.get("privacyStatus",
                                                                             "public"),
                       "license": "youtube", "embeddable": True, "publicStatsViewable": True,
                       "madeForKids": bool(status.get("selfDeclaredMadeForKids")),
                       "selfDeclaredMadeForKids": status.get("selfDeclaredMadeForKids"),
                       "containsSyntheticMedia": status.get("containsSyntheticMedia")}}


def google_error(code: int, message: str, reason: str, domain: str,
                 status: str = "") -> dict[str, Any]:
    statuses = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED",
                404: "NOT_FOUND", 429: "RESOURCE_EXHAUSTED"}
    return {"error": {"code": code, "message": message,
                      "errors": [{"message": message, "domain": domain, "reason": reason}],
                      "status": status or statuses.get(code, "UNAVAILABLE")}}


def _open_problem(headers: dict[str, str], query: dict[str, list[str]],
                  body: Any) -> tuple[str, str] | None:
    parts = set((query.get("part") or [""])[0].split(","))
    if (query.get("uploadType") or [""])[0] != "resumable" or not {"snippet", "status"} <= parts:
        return "badRequest", "uploadType=resumable and part=snippet,status are expected here."
    if not (headers.get("x-upload-content-length") or "").isdigit():
        return "badRequest", "X-Upload-Content-Length is required."
    title = str(((body or {}).get("snippet") or {}).get("title") or "")
    if not title or len(title) > 100 or "<" in title or ">" in title:
        return "invalidTitle", "The request metadata specifies an invalid video title."
    description = str(body["snippet"].get("description") or "")
    if len(description.encode()) > 5000 or "<" in description or ">" in description:
        return "invalidDescription", "The request metadata specifies an invalid video description."
    return None


def _handler(fake: FakeYouTube) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            url = urlparse(self.path)
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if url.path != UPLOAD_PATH:
                return self._send(404, google_error(404, "Not Found", "notFound", "global"), {})
            with fake._lock:
                answer = fake.open(self._headers(), parse_qs(url.query), json.loads(raw or b"{}"))
            self._send(*answer)

        def do_PUT(self) -> None:
            url = urlparse(self.path)
            headers = self._headers()
            with fake._lock:
                session = fake.session(parse_qs(url.query)) if url.path == UPLOAD_PATH else None
                if session is None:
                    self.rfile.read(int(headers.get("content-length") or 0))
                    return self._send(404, google_error(404, "Not Found", "notFound", "global"), {})
                if headers.get("authorization") != f"Bearer {fake.token}":
                    self.rfile.read(int(headers.get("content-length") or 0))
                    return self._send(401, google_error(401, "Invalid Credentials", "authError",
                                                        "global"), {})
                if _ASK.match(headers.get("content-range", "")):
                    return self._send(*fake.ask(session))
                answer = fake.chunk(session, headers, self.rfile.read)
            if answer is None:
                return self._cut()
            self._send(*answer)

        def _cut(self) -> None:
            """Drops the connection mid-request, as a network failure would."""
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

        def _headers(self) -> dict[str, str]:
            return {k.lower(): v for k, v in self.headers.items()}

        def _send(self, status: int, body: Any, headers: dict[str, str]) -> None:
            data = json.dumps(body).encode() if body is not None else b""
            self.send_response(status, "Resume Incomplete" if status == 308 else None)
            self.send_header("Content-Type", "application/json; charset=UTF-8")
            self.send_header("Content-Length", str(len(data)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

    return Handler
