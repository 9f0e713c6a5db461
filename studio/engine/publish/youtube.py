"""Uploading a Short to YouTube through the Data API v3's resumable upload protocol.

As Google's "Resumable Uploads" guide describes it:

1. ``POST {upload root}/videos?uploadType=resumable&part=snippet,status`` with the video resource
   as JSON (``snippet``: title at most 100 characters, description at most 5000 bytes, neither
   with ``<`` or ``>``; tags; categoryId — ``status``: privacyStatus, selfDeclaredMadeForKids,
   containsSyntheticMedia, YouTube's "altered or synthetic content" disclosure) and the headers
   ``X-Upload-Content-Length`` / ``X-Upload-Content-Type``. The answer's ``Location`` is the
   session URI.
2. ``PUT`` the file to the session URI in chunks (each but the last a multiple of 256 KiB) with
   ``Content-Range: bytes FIRST-LAST/TOTAL``. ``308 Resume Incomplete`` carries
   ``Range: bytes=0-N`` (the bytes the server holds; no Range when it holds none) and the upload
   goes on from N+1 — which may be inside the chunk just sent. ``200``/``201`` carry the new video
   resource.
3. After a cut connection or a 500, 502, 503 or 504, wait (exponential back-off) and ask where the
   upload stands with an empty ``PUT`` and ``Content-Range: bytes */TOTAL``; resume from its
   Range. A 404 means the session expired: the upload must start over.

Quota: Google's quota calculator gives ``videos.insert`` a bucket of its own, 100 uploads a day
by default at 1 unit each (projects on the older scheme count 1600 of the shared 10,000 daily
units); the units are recorded on the result. ``quotaExceeded`` (403) waits for the daily reset
at midnight Pacific time, so it is not retried; 401 means the user must connect again; 429 and
5xx are retried by the job, after Retry-After when given.
"""
from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from studio.engine.publish.chunks import MIB, read_piece, video_mime, youtube_chunk_size, youtube_piece
from studio.engine.publish.platform import Post, Progress, Published, PublishError, TokenSource, http_session
from studio.engine.retry_after import retry_after_s

INSERT_QUOTA = {"quota_method": "videos.insert", "quota_units": 1, "quota_daily_uploads": 100}
TITLE_MAX = 100
DESCRIPTION_MAX_BYTES = 5000
TAGS_MAX = 500
PEOPLE_AND_BLOGS = "22"
_RESUMABLE = {500, 502, 503, 504}
_RANGE = re.compile(r"bytes=0-(\d+)")
_RETRIED_403 = {"rateLimitExceeded", "userRateLimitExceeded"}
_REFUSED_403 = {
    "quotaExceeded": "YouTube's daily upload quota is used up; try tomorrow.",
    "uploadLimitExceeded": "This YouTube channel has uploaded as many videos as YouTube allows "
                           "for now; try tomorrow.",
    "youtubeSignupRequired": "This Google account has no YouTube channel yet; create one on "
                             "YouTube, then post again.",
}


class YouTubeClient:
    """Posts one video per call as a Short; see the module docstring for the requests."""

    name = "youtube"

    def __init__(self, base_url: str, upload_base_url: str, tokens: TokenSource, *,
                 http: httpx.Client | None = None, chunk_size: int = 8 * MIB,
                 sleep: Callable[[float], None] = time.sleep, privacy_status: str = "public",
                 category_id: str = PEOPLE_AND_BLOGS, max_tries: int = 6,
                 backoff_s: float = 1.0) -> None:
        self.base_url = base_url.rstrip("/")  # the Data API's root, for calls beside the upload
        self.upload_base_url = upload_base_url.rstrip("/")
        self.tokens = tokens
        self.http = http
        self.chunk_size = youtube_chunk_size(chunk_size)
        self.sleep = sleep
        self.privacy_status = privacy_status
        self.category_id = category_id
        self.max_tries = max_tries
        self.backoff_s = backoff_s

    def publish(self, post: Post, progress: Progress) -> Published:
        video = _video_of(post)
        total = video.stat().st_size
        with http_session(self.http) as http:
            progress(0.01, "Opening a YouTube upload")
            session = self._open(http, post, video, total)
            resource = self._upload(http, session, video, total, progress)
        video_id = str(resource.get("id") or "")
        if not video_id:
            raise PublishError("YouTube took the upload but named no video id.", transient=True)
        progress(1.0, "Uploaded to YouTube")
        status = _dict(resource.get("status"))
        meta: dict[str, object] = {**INSERT_QUOTA,
                                   "privacy_status": str(status.get("privacyStatus") or ""),
                                   "upload_status": str(status.get("uploadStatus") or "")}
        return Published(video_id, f"https://youtube.com/shorts/{video_id}", meta)

    def resource(self, post: Post) -> dict[str, Any]:
        """The video resource sent when the upload opens."""
        return {"snippet": {"title": _title(post), "description": _description(post.caption),
                            "tags": _tags(post.tags), "categoryId": self.category_id},
                "status": {"privacyStatus": self.privacy_status,
                           "selfDeclaredMadeForKids": False,
                           "containsSyntheticMedia": post.ai_generated}}

    def _open(self, http: httpx.Client, post: Post, video: Path, total: int) -> str:
        headers = {"Authorization": f"Bearer {self.tokens()}",
                   "Content-Type": "application/json; charset=UTF-8",
                   "X-Upload-Content-Length": str(total), "X-Upload-Content-Type": video_mime(video)}
        try:
            response = http.post(f"{self.upload_base_url}/videos", json=self.resource(post),
                                 params={"uploadType": "resumable", "part": "snippet,status"},
                                 headers=headers)
        except httpx.TransportError as exc:
            raise PublishError(f"Could not reach YouTube ({type(exc).__name__}).",
                               transient=True) from None
        session = str(response.headers.get("location", ""))
        if response.is_success and session:
            return session
        raise _api_error(response) if not response.is_success else PublishError(
            "YouTube opened no upload session.", transient=True)

    def _upload(self, http: httpx.Client, session: str, video: Path, total: int,
                progress: Progress) -> dict[str, Any]:
        offset, failures, asked = 0, 0, False
        response = self._put(http, session, video, offset, total)
        while True:
            code = response.status_code if response is not None else 0
            if response is not None and code in (200, 201):
                return _dict(_json(response))
            held = _held(response) if response is not None and code == 308 else -1
            # A chunk's 308 must move the upload on; the status query's may stand still.
            if held > offset or (asked and held >= 0):
                failures = 0 if held > offset else failures
                offset = held
                progress(0.02 + 0.97 * offset / total, "Uploading to YouTube")
                response, asked = self._put(http, session, video, offset, total), False
                continue
            if response is not None and code not in _RESUMABLE and code != 308:
                raise _session_error(response)
            failures += 1
            if failures > self.max_tries:
                raise PublishError(f"The upload to YouTube broke off {self.max_tries} times; "
                                   "it will be tried again later.", transient=True)
            self.sleep(self.backoff_s * 2 ** (failures - 1))
            response, asked = self._ask(http, session, total), True

    def _put(self, http: httpx.Client, session: str, video: Path, offset: int,
             total: int) -> httpx.Response | None:
        """The next chunk from ``offset``; None when the connection broke."""
        piece = youtube_piece(offset, self.chunk_size, total)
        headers = {"Authorization": f"Bearer {self.tokens()}", "Content-Type": video_mime(video),
                   "Content-Range": piece.content_range(total)}
        try:
            return http.put(session, content=read_piece(video, piece), headers=headers)
        except httpx.TransportError:
            return None

    def _ask(self, http: httpx.Client, session: str, total: int) -> httpx.Response | None:
        """Where the interrupted upload stands (an empty PUT, ``bytes */TOTAL``)."""
        headers = {"Authorization": f"Bearer {self.tokens()}", "Content-Range": f"bytes */{total}"}
        try:
            return http.put(session, content=b"", headers=headers)
        except httpx.TransportError:
            return None


def _video_of(post: Post) -> Path:
    if post.kind != "video" or len(post.files) != 1:
        raise PublishError("YouTube Shorts are one video; this post is "
                           f"{'a carousel' if post.kind == 'carousel' else 'a picture'}.")
    video = post.files[0]
    if not video.is_file():
        raise PublishError(f"The video {video.name} is missing; produce the post again.")
    if video.stat().st_size == 0:
        raise PublishError(f"The video {video.name} is empty; produce the post again.")
    return video


def _clean(text: str) -> str:
    """YouTube refuses titles and descriptions with angle brackets (invalidTitle/Description)."""
    return text.replace("<", "‹").replace(">", "›").strip()


def _title(post: Post) -> str:
    first_line = next((line for line in post.caption.splitlines() if line.strip()), "")
    title = _clean(post.title or first_line) or "Short"
    return title if len(title) <= TITLE_MAX else title[:TITLE_MAX - 1].rstrip() + "…"


def _description(caption: str) -> str:
    """The caption and its hashtags, with #Shorts added where it is missing."""
    text = _clean(caption)
    if "#shorts" not in text.lower():
        text = f"{text}\n\n#Shorts" if text else "#Shorts"
    data = text.encode()
    if len(data) <= DESCRIPTION_MAX_BYTES:
        return text
    return data[:DESCRIPTION_MAX_BYTES - 10].decode(errors="ignore") + "\n#Shorts"


def _tags(tags: tuple[str, ...]) -> list[str]:
    """YouTube counts a tag with a space as quoted (two more characters) and a comma between
    tags; the whole list stays within 500 characters."""
    kept: list[str] = []
    used = 0
    for tag in (_clean(t.lstrip("#")) for t in tags):
        cost = len(tag) + (2 if " " in tag else 0) + (1 if kept else 0)
        if tag and used + cost <= TAGS_MAX:
            kept.append(tag)
            used += cost
    return kept


def _held(response: httpx.Response) -> int:
    """The first byte the server still needs, from a 308's Range (none: it holds nothing)."""
    match = _RANGE.fullmatch(response.headers.get("range", "").strip())
    return int(match.group(1)) + 1 if match else 0


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return {}


def _reasons(response: httpx.Response) -> tuple[set[str], str]:
    error = _dict(_dict(_json(response)).get("error"))
    reasons = {str(_dict(e).get("reason") or "") for e in error.get("errors") or ()}
    return reasons, str(error.get("message") or "")


def _api_error(response: httpx.Response) -> PublishError:
    status = response.status_code
    reasons, message = _reasons(response)
    if status == 401:
        return PublishError("YouTube's authorization has expired or was revoked; reconnect "
                            "YouTube.", reconnect=True)
    for reason, words in _REFUSED_403.items():
        if reason in reasons:
            return PublishError(words)
    if status == 429 or status >= 500 or reasons & _RETRIED_403:
        return PublishError(f"YouTube is busy (HTTP {status}); the upload will be tried again.",
                            transient=True, retry_after=retry_after_s(response.headers.get("retry-after")))
    plain = re.sub(r"<[^>]+>", "", message).strip().rstrip(".") or f"HTTP {status}"
    return PublishError(f"YouTube refused the video: {plain}.")


def _session_error(response: httpx.Response) -> PublishError:
    if response.status_code in (404, 410):
        return PublishError("YouTube's upload session expired; the upload will start again.",
                            transient=True)
    return _api_error(response)
