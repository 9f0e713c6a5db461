"""A real HTTP server speaking TikTok's Content Posting API (v2) as its documentation describes.

- ``POST /v2/post/publish/creator_info/query/`` (scope video.publish): creator_username,
  creator_nickname, privacy_level_options, comment/duet/stitch_disabled,
  max_video_post_duration_sec.
- ``POST /v2/post/publish/video/init/`` (direct post, video.publish) and
  ``POST /v2/post/publish/inbox/video/init/`` (inbox upload, video.upload): ``source_info``
  FILE_UPLOAD checked by the media transfer guide's chunk rules (total_chunk_count =
  video_size // chunk_size; chunks 5 MB to 64 MB, the final one up to 128 MB; under 5 MB whole;
  over 64 MB in several chunks; 1 to 1000 chunks), refused as TikTok refuses: HTTP 400
  ``invalid_param``. At most 5 inbox shares may wait (403 ``spam_risk_too_many_pending_share``).
  Direct post also checks privacy_level against the options (``privacy_level_option_mismatch``)
  and, for an unaudited app, that the account is private
  (``unaudited_client_can_only_post_to_private_accounts``). Both answer
  ``{"data": {"publish_id", "upload_url"}, "error": {"code": "ok", "message": "", "log_id"}}``.
- ``PUT upload_url``: chunks in order, Content-Range ``bytes FIRST-LAST/TOTAL`` matching the plan,
  Content-Type video/*; 206 while chunks remain, 201 when all are in.
- ``POST /v2/post/publish/status/fetch/``: PROCESSING_UPLOAD (``processing_polls`` times after the
  upload), then PUBLISH_COMPLETE (direct; ``publicaly_available_post_id`` [id] unless SELF_ONLY)
  or SEND_TO_USER_INBOX (inbox), or FAILED with ``fail_reason`` when ``fail_reason`` is set.

Errors are ``{"error": {"code", "message", "log_id"}}``: a token that is not ``token`` gets 401
``access_token_invalid``; ``refuse(endpoint, code, status)`` scripts any other answer (e.g. 429
``rate_limit_exceeded`` with Retry-After). Bytes MB are read strictly: the minimum as 5 MiB, the
maximum as 64,000,000 bytes.

    with FakeTikTok() as tiktok:
        client = TikTokClient(tiktok.base_url, lambda: tiktok.token, direct_post=True)
"""
from __future__ import annotations

import itertools
import json
import re
import threading
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlparse

from tests.fakes.local_server import LocalServer

MIB = 1024 * 1024
MIN_CHUNK, MAX_CHUNK, MAX_FINAL = 5 * MIB, 64_000_000, 128_000_000
_ids = itertools.count(1)
_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+)$")
ENDPOINTS = {"/v2/post/publish/creator_info/query/": "creator_info",
             "/v2/post/publish/video/init/": "video_init",
             "/v2/post/publish/inbox/video/init/": "inbox_init",
             "/v2/post/publish/status/fetch/": "status"}


@dataclass(frozen=True, slots=True)
class Received:
    endpoint: str  # creator_info, video_init, inbox_init, status, upload
    headers: dict[str, str]
    body: Any  # parsed JSON for API calls; for an upload, the chunk's size


@dataclass(slots=True)
class Upload:
    publish_id: str
    inbox: bool
    video_size: int
    chunk_size: int
    total_chunk_count: int
    privacy_level: str = ""
    data: bytearray = field(default_factory=bytearray)
    chunks: int = 0
    polls: int = 0

    @property
    def complete(self) -> bool:
        return self.chunks == self.total_chunk_count


@dataclass(slots=True)
class _Refusal:
    status: int
    code: str
    message: str
    headers: dict[str, str]


class FakeTikTok:
    def __init__(self, *, username: str = "studio.creator", max_duration_s: int = 600,
                 privacy_options: tuple[str, ...] = ("PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS",
                                                     "SELF_ONLY"),
                 scopes: tuple[str, ...] = ("user.info.basic", "video.publish", "video.upload"),
                 audited: bool = True, account_private: bool = False) -> None:
        self.token = "act.fake-token"
        self.username = username
        self.max_duration_s = max_duration_s
        self.privacy_options = privacy_options
        self.scopes = scopes
        self.audited = audited
        self.account_private = account_private
        self.processing_polls = 1  # PROCESSING_UPLOAD answers before the final status
        self.fail_reason = ""  # set: the status ends FAILED with it
        self.comment_disabled = False
        self.received: list[Received] = []
        self.uploads: dict[str, Upload] = {}  # by publish_id
        self._refusals: dict[str, deque[_Refusal]] = {}
        self._lock = threading.Lock()
        self._server = LocalServer(_handler(self))

    @property
    def base_url(self) -> str:
        return self._server.url

    def __enter__(self) -> FakeTikTok:
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.close()

    def refuse(self, endpoint: str, code: str, status: int, *, message: str = "",
               retry_after: str | None = None, times: int = 1) -> FakeTikTok:
        """The next ``times`` requests to ``endpoint`` get this error instead of their answer."""
        headers = {"Retry-After": retry_after} if retry_after is not None else {}
        queue = self._refusals.setdefault(endpoint, deque())
        queue.extend(_Refusal(status, code, message or code.replace("_", " "), headers)
                     for _ in range(times))
        return self

    def calls(self, endpoint: str) -> list[Received]:
        return [r for r in self.received if r.endpoint == endpoint]

    # Answers (status, JSON body, headers) ------------------------------------------------------

    def answer(self, endpoint: str, headers: dict[str, str], body: Any,
               query: dict[str, list[str]]) -> tuple[int, dict[str, Any], dict[str, str]]:
        with self._lock:
            self.received.append(Received(endpoint, headers,
                                          len(body) if endpoint == "upload" else body))
            refusals = self._refusals.get(endpoint)
            if refusals:
                r = refusals.popleft()
                return r.status, _error(r.code, r.message), r.headers
            if endpoint == "upload":
                return self._upload(headers, body, query)
            if headers.get("authorization") != f"Bearer {self.token}":
                return 401, _error("access_token_invalid", "The access token is invalid or not "
                                   "found in the request."), {}
            return getattr(self, f"_{endpoint}")(body)

    def _scoped(self, scope: str) -> tuple[int, dict[str, Any], dict[str, str]] | None:
        if scope in self.scopes:
            return None
        return 401, _error("scope_not_authorized", "The user did not authorize the scope "
                           f"required for completing this request ({scope})."), {}

    def _creator_info(self, body: Any) -> tuple[int, dict[str, Any], dict[str, str]]:
        refused = self._scoped("video.publish")
        return refused or _ok({
            "creator_avatar_url": "https://p16.example/avatar.jpeg",
            "creator_username": self.username, "creator_nickname": self.username.title(),
            "privacy_level_options": list(self.privacy_options),
            "comment_disabled": self.comment_disabled, "duet_disabled": False,
            "stitch_disabled": True, "max_video_post_duration_sec": self.max_duration_s})

    def _video_init(self, body: Any) -> tuple[int, dict[str, Any], dict[str, str]]:
        refused = self._scoped("video.publish")
        if refused:
            return refused
        level = str((body.get("post_info") or {}).get("privacy_level") or "")
        if not self.audited and not self.account_private:
            return 403, _error("unaudited_client_can_only_post_to_private_accounts",
                               "Unaudited clients can only post to a private account."), {}
        if level not in self.privacy_options:
            return 403, _error("privacy_level_option_mismatch", "privacy_level is not one of "
                               "the creator's privacy_level_options."), {}
        return self._init(body, inbox=False, privacy_level=level)

    def _inbox_init(self, body: Any) -> tuple[int, dict[str, Any], dict[str, str]]:
        return self._scoped("video.upload") or self._init(body, inbox=True, privacy_level="")

    def _init(self, body: Any, *, inbox: bool,
              privacy_level: str) -> tuple[int, dict[str, Any], dict[str, str]]:
        source = body.get("source_info") or {}
        problem = chunk_problem(source)
        if problem:
            return 400, _error("invalid_param", problem), {}
        if inbox and sum(u.inbox for u in self.uploads.values()) >= 5:
            return 403, _error("spam_risk_too_many_pending_share", "The daily upload cap from "
                               "the API is reached for the current user."), {}
        publish_id = (f"v_inbox_file~v2.{next(_ids):012d}" if inbox
                      else f"v_pub_file~v2-1.{next(_ids):012d}")
        self.uploads[publish_id] = Upload(publish_id, inbox, int(source["video_size"]),
                                          int(source["chunk_size"]),
                                          int(source["total_chunk_count"]), privacy_level)
        url = f"{self.base_url}/upload/video/?upload_id={publish_id}&upload_token=tok{publish_id[-6:]}"
        return _ok({"publish_id": publish_id, "upload_url": url})

    def _upload(self, headers: dict[str, str], body: Any,
                query: dict[str, list[str]]) -> tuple[int, dict[str, Any], dict[str, str]]:
        upload = self.uploads.get((query.get("upload_id") or [""])[0])
        if upload is None:
            return 404, _error("invalid_param", "The upload_id is not known."), {}
        problem = _piece_problem(upload, headers, len(body))
        if problem:
            return 400, _error("invalid_param", problem), {}
        upload.data += body
        upload.chunks += 1
        return (201 if upload.complete else 206), {}, {}

    def _status(self, body: Any) -> tuple[int, dict[str, Any], dict[str, str]]:
        upload = self.uploads.get(str(body.get("publish_id") or ""))
        if upload is None:
            return 400, _error("invalid_param", "The publish_id is not valid."), {}
        data: dict[str, Any] = {"status": "PROCESSING_UPLOAD", "uploaded_bytes": len(upload.data)}
        if upload.complete:
            upload.polls += 1
            if upload.polls > self.processing_polls:
                data.update(self._final(upload))
        return _ok(data)

    def _final(self, upload: Upload) -> dict[str, Any]:
        if self.fail_reason:
            return {"status": "FAILED", "fail_reason": self.fail_reason}
        if upload.inbox:
            return {"status": "SEND_TO_USER_INBOX"}
        public = upload.privacy_level != "SELF_ONLY"
        return {"status": "PUBLISH_COMPLETE",
                "publicaly_available_post_id": [7400000000000000000 + next(_ids)] if public else []}


def chunk_problem(source: dict[str, Any]) -> str:
    """Why TikTok would refuse these FILE_UPLOAD numbers, or "" when it takes them."""
    if source.get("source") != "FILE_UPLOAD":
        return "source must be FILE_UPLOAD here."
    try:
        size, chunk, count = (int(source[k]) for k in ("video_size", "chunk_size",
                                                       "total_chunk_count"))
    except (KeyError, TypeError, ValueError):
        return "video_size, chunk_size and total_chunk_count are required for FILE_UPLOAD."
    if size <= 0 or chunk <= 0 or chunk > size:
        return "The chunk size is invalid."
    if size < MIN_CHUNK and (chunk != size or count != 1):
        return "A video under 5 MB must be uploaded whole: chunk_size equal to video_size."
    if size >= MIN_CHUNK and not MIN_CHUNK <= chunk <= MAX_CHUNK and chunk != size:
        return "The chunk size is invalid."
    if count != size // chunk or not 1 <= count <= 1000:
        return "The total chunk count is invalid."
    if size > MAX_CHUNK and count < 2:
        return "A video over 64 MB must be uploaded in multiple chunks."
    if size - chunk * (count - 1) > MAX_FINAL or (count == 1 and size > MAX_CHUNK):
        return "The final chunk is too large."
    return ""


def _piece_problem(upload: Upload, headers: dict[str, str], length: int) -> str:
    if upload.complete:
        return "Every chunk has been uploaded already."
    if not headers.get("content-type", "").startswith("video/"):
        return "Content-Type must be the video's MIME type."
    match = _RANGE.match(headers.get("content-range", ""))
    if match is None:
        return "Content-Range must be 'bytes FIRST-LAST/TOTAL'."
    first, last, total = (int(g) for g in match.groups())
    start = upload.chunks * upload.chunk_size
    final = upload.chunks == upload.total_chunk_count - 1
    end = upload.video_size - 1 if final else start + upload.chunk_size - 1
    if total != upload.video_size or (first, last) != (start, end):
        return f"Expected Content-Range bytes {start}-{end}/{upload.video_size} (in order)."
    if length != last - first + 1 or int(headers.get("content-length", -1)) != length:
        return "The body's length does not match Content-Range."
    return ""


def _ok(data: dict[str, Any]) -> tuple[int, dict[str, Any], dict[str, str]]:
    return 200, {"data": data, "error": _error("ok", "")["error"]}, {}


def _error(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message,
                      "log_id": f"202612060500{next(_ids):012d}FAKE"}}


def _handler(fake: FakeTikTok) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            url = urlparse(self.path)
            endpoint = ENDPOINTS.get(url.path)
            raw = self._body()
            if endpoint is None:
                return self._send(404, _error("invalid_param", "Unknown path."), {})
            try:
                body = json.loads(raw) if raw else {}
            except ValueError:
                return self._send(400, _error("invalid_param", "The body is not JSON."), {})
            self._send(*fake.answer(endpoint, self._headers(), body, {}))

        def do_PUT(self) -> None:
            url = urlparse(self.path)
            raw = self._body()
            if url.path != "/upload/video/":
                return self._send(404, _error("invalid_param", "Unknown path."), {})
            self._send(*fake.answer("upload", self._headers(), raw, parse_qs(url.query)))

        def _headers(self) -> dict[str, str]:
            return {k.lower(): v for k, v in self.headers.items()}

        def _body(self) -> bytes:
            return self.rfile.read(int(self.headers.get("Content-Length") or 0))

        def _send(self, status: int, body: dict[str, Any], headers: dict[str, str]) -> None:
            data = json.dumps(body).encode() if body else b""
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=UTF-8")
            self.send_header("Content-Length", str(len(data)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

    return Handler
