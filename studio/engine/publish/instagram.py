"""Posting to Instagram through the Instagram API with Instagram Login (content publishing).

As documented for professional accounts (host ``graph.instagram.com``, the access token as the
``access_token`` parameter):

1. ``GET /<IG_ID>/content_publishing_limit?fields=quota_usage,config`` answers
   ``{"data": [{"quota_usage": N, "config": {"quota_total": 100, "quota_duration": 86400}}]}``;
   the quota is read, never assumed, and a post is refused plainly when it is used up.
2. ``POST /<IG_ID>/media`` makes a container: ``image_url`` (+ ``caption``) for a picture;
   ``media_type=REELS`` with ``video_url``, ``cover_url`` and ``caption`` for a video (single feed
   videos are reels since 2023); for a carousel, one container per item with
   ``is_carousel_item=true`` (a video item ``media_type=VIDEO``), then ``media_type=CAROUSEL``
   with ``children`` (2 to 10 ids, comma-separated) and the caption.
3. ``GET /<CONTAINER_ID>?fields=status_code,status`` until ``status_code`` is ``FINISHED``
   (``IN_PROGRESS`` while Instagram fetches and processes the media; ``ERROR`` with the reason
   in ``status``; ``EXPIRED`` when not published within 24 hours).
4. ``POST /<IG_ID>/media_publish`` with ``creation_id`` gives the media id; ``GET /<MEDIA_ID>
   ?fields=permalink`` the post's URL.

Instagram fetches the media itself ("we cURL media used in publishing attempts"), so the files
must be at public URLs (``Post.public_urls``). Captions take at most 2,200 characters and 30
hashtags. Errors come as ``{"error": {"message", "type",
"code", "error_subcode", "is_transient", "error_user_msg"}}``: code 190 is an expired or
revoked token (reconnect); codes 1, 2, 4, 17, 32, 341 and 613 and ``is_transient`` are
temporary, as are HTTP 429 and 5xx; the rest is refused for good, in the platform's words.

The publishing API has no field for an AI-generated label (Instagram's "AI info" is set in the
app), so ``Post.ai_generated`` is not sent; the studio says so where the user posts."""
from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import urlparse

import httpx

from studio.engine.publish.platform import Post, Progress, Published, PublishError, TokenSource, http_session
from studio.engine.retry_after import retry_after_s

TIMEOUT = httpx.Timeout(60.0, connect=10.0)
TRANSIENT_CODES = {1, 2, 4, 17, 32, 341, 613}
VIDEO_SUFFIXES = {".mp4", ".mov"}
MAX_CAPTION = 2200  # characters, as documented for the caption parameter
MAX_HASHTAGS = 30
QUOTA_SUBCODE = 2207042  # "the maximum number of posts allowed" (the publishing limit)
MAX_WAIT_S = 600.0  # Instagram processes a reel in minutes; past this the job tries again later
NO_URL = ("Instagram fetches media from a public URL; set publish.public_url_prefix or connect a "
          "team server")
RECONNECT = "Instagram: the connection expired or was revoked; reconnect Instagram in Preferences → Automation"


class InstagramClient:
    name = "instagram"

    def __init__(self, base_url: str, tokens: TokenSource, user_id: str, *,
                 http: httpx.Client | None = None, poll_interval_s: float = 5.0,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.base_url = base_url.rstrip("/")
        self.tokens = tokens
        self.user_id = user_id
        self.http = http  # the caller's (a test's); else one of its own per post, closed after
        self._session: httpx.Client | None = None
        self.poll_interval_s = poll_interval_s
        self.sleep = sleep

    def publish(self, post: Post, progress: Progress) -> Published:
        with http_session(self.http, TIMEOUT) as session:
            self._session = session
            try:
                return self._publish_post(post, progress)
            finally:
                self._session = None

    def _publish_post(self, post: Post, progress: Progress) -> Published:
        urls = _public_urls(post)
        _check_caption(post.caption)
        progress(0.02, "Reading Instagram's publishing limit")
        usage = self.check_quota()
        progress(0.05, "Instagram is fetching the media")
        container = self._container(post, urls, progress)
        self._wait(container, progress, 0.5, 0.9)
        progress(0.92, "Publishing on Instagram")
        media_id = self._publish(container)
        meta: dict[str, object] = {"container_id": container, "quota_usage": usage + 1}
        if not media_id:
            progress(1.0, "Published on Instagram (its answer was lost)")
            return Published("", "", meta | {"unconfirmed_id": True})
        permalink = str(self._get(f"/{media_id}", {"fields": "permalink"}).get("permalink") or "")
        progress(1.0, "Published on Instagram")
        return Published(media_id, permalink, meta)

    def _publish(self, container: str) -> str:
        """The media id; "" when the answer was lost but the container shows it went out. A lost
        answer with the container unpublished stays transient: posting again cannot double it."""
        try:
            return str(self._post(f"/{self.user_id}/media_publish", {"creation_id": container})["id"])
        except PublishError as exc:
            if not isinstance(exc.__cause__, httpx.HTTPError):
                raise
            state = self._get(f"/{container}", {"fields": "status_code"}).get("status_code")
            if state == "PUBLISHED":
                return ""
            raise

    def check_quota(self) -> int:
        """The posts published in the platform's window; refused when none is left."""
        answer = self._get(f"/{self.user_id}/content_publishing_limit", {"fields": "quota_usage,config"})
        data = answer.get("data") or [{}]
        used = int(data[0].get("quota_usage") or 0)
        config = data[0].get("config") or {}
        total = int(config.get("quota_total") or 0)
        if total and used >= total:
            hours = int(config.get("quota_duration") or 86400) // 3600
            raise PublishError(f"Instagram's publishing limit is used up ({used} of {total} posts in "
                               f"{hours} hours); the post can go out when older posts leave that window.")
        return used

    def _container(self, post: Post, urls: tuple[str, ...], progress: Progress) -> str:
        if post.kind == "carousel":
            return self._carousel(post, urls, progress)
        if post.kind == "video":
            fields = {"media_type": "REELS", "video_url": urls[0], "caption": post.caption}
            if post.cover_url:
                fields["cover_url"] = post.cover_url
        else:
            fields = {"image_url": urls[0], "caption": post.caption}
        return str(self._post(f"/{self.user_id}/media", fields)["id"])

    def _carousel(self, post: Post, urls: tuple[str, ...], progress: Progress) -> str:
        if not 2 <= len(urls) <= 10:
            raise PublishError(f"An Instagram carousel takes 2 to 10 pictures or videos; this post has {len(urls)}.")
        children = []
        for url in urls:
            item = {"is_carousel_item": "true"}
            item |= {"media_type": "VIDEO", "video_url": url} if _is_video(url) else {"image_url": url}
            children.append(str(self._post(f"/{self.user_id}/media", item)["id"]))
        for n, child in enumerate(children):
            self._wait(child, progress, 0.05 + 0.3 * n / len(children), 0.05 + 0.3 * (n + 1) / len(children))
        fields = {"media_type": "CAROUSEL", "children": ",".join(children), "caption": post.caption}
        return str(self._post(f"/{self.user_id}/media", fields)["id"])

    def _wait(self, container: str, progress: Progress, start: float, end: float) -> None:
        polls = max(1, int(MAX_WAIT_S / max(self.poll_interval_s, 0.001)))
        for n in range(polls):
            answer = self._get(f"/{container}", {"fields": "status_code,status"})
            code = str(answer.get("status_code") or "")
            if code in ("FINISHED", "PUBLISHED"):
                return
            if code == "ERROR":
                reason = answer.get("status") or "no reason given"
                raise PublishError(f"Instagram could not process the media: {_line(reason)}.")
            if code == "EXPIRED":
                raise PublishError("Instagram's container expired (not published within 24 hours); post it again.")
            progress(start + (end - start) * min(n / 12, 0.95), "Instagram is processing the media")
            self.sleep(self.poll_interval_s)
        raise PublishError(f"Instagram was still processing the media after {MAX_WAIT_S / 60:g} minutes.",
                           transient=True)

    def _get(self, path: str, params: dict[str, str]) -> dict[str, Any]:
        return self._send("GET", path, params=params | {"access_token": self.tokens()})

    def _post(self, path: str, fields: dict[str, str]) -> dict[str, Any]:
        return self._send("POST", path, data=fields | {"access_token": self.tokens()})

    def _send(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        if self._session is None:  # a call outside publish (check_quota on its own)
            with http_session(self.http, TIMEOUT) as session:
                self._session = session
                try:
                    return self._send(method, path, **kwargs)
                finally:
                    self._session = None
        try:
            response = self._session.request(method, self.base_url + path, **kwargs)
        except httpx.HTTPError as exc:
            raise PublishError(f"Instagram could not be reached ({type(exc).__name__}).", transient=True) from exc
        try:
            body = response.json()
        except ValueError:
            body = {}
        body = body if isinstance(body, dict) else {}
        if response.status_code >= 400 or "error" in body:
            raise _error(response, body)
        return body


def _error(response: httpx.Response, body: dict[str, Any]) -> PublishError:
    error = body.get("error") if isinstance(body.get("error"), dict) else {}
    assert isinstance(error, dict)
    code = error.get("code")
    if code == 190:
        return PublishError(RECONNECT + ".", reconnect=True)
    status = response.status_code
    if status == 429 or status >= 500 or code in TRANSIENT_CODES or error.get("is_transient"):
        return PublishError(f"Instagram is busy (HTTP {status}); the post will be tried again.",
                            transient=True, retry_after=retry_after_s(response.headers.get("retry-after")))
    if error.get("error_subcode") == QUOTA_SUBCODE:
        return PublishError("Instagram's publishing limit is used up; the post can go out when older "
                            "posts leave the 24-hour window.")
    words = error.get("error_user_msg") or error.get("message") or response.reason_phrase
    return PublishError(f"Instagram refused the post: {_line(words)}.")


def _check_caption(caption: str) -> None:
    """Instagram's documented caption limits, refused here before any container is made."""
    if len(caption) > MAX_CAPTION:
        raise PublishError(f"Instagram takes captions of up to {MAX_CAPTION} characters; this one has "
                           f"{len(caption)}.")
    hashtags = len(re.findall(r"(?<!\w)#\w", caption))
    if hashtags > MAX_HASHTAGS:
        raise PublishError(f"Instagram takes up to {MAX_HASHTAGS} hashtags in a caption; this one has {hashtags}.")


def _public_urls(post: Post) -> tuple[str, ...]:
    urls = post.public_urls
    if not urls or any(urlparse(u).scheme not in ("http", "https") for u in urls):
        raise PublishError(NO_URL + ".")
    if len(urls) < len(post.files):
        raise PublishError(f"{NO_URL} (only {len(urls)} of the post's {len(post.files)} files have one).")
    return urls


def _is_video(url: str) -> bool:
    return PurePosixPath(urlparse(url).path).suffix.lower() in VIDEO_SUFFIXES


def _line(text: object) -> str:
    return " ".join(str(text).split()).rstrip(".")
