"""Posting a video to TikTok through the Content Posting API (v2), as its documentation describes.

Direct post (scope ``video.publish``): ``POST /v2/post/publish/creator_info/query/`` first (the
account's ``privacy_level_options``, ``max_video_post_duration_sec``, whether comments, duets and
stitches are off), then ``POST /v2/post/publish/video/init/`` with ``post_info`` (title = the
caption, at most 2200 UTF-16 units; privacy_level; disable_*; brand_content_toggle,
brand_organic_toggle; ``is_aigc``, TikTok's AI-generated content label) and ``source_info``
(FILE_UPLOAD with video_size, chunk_size, total_chunk_count by the media transfer guide's rules,
see chunks.py). Where the app is not approved for direct posting (``direct_post`` False, or the
API answers ``unaudited_client_can_only_post_to_private_accounts`` or ``scope_not_authorized``)
the video goes to the user's inbox instead: ``POST /v2/post/publish/inbox/video/init/`` with
``source_info`` only (scope ``video.upload``); the user finishes the post in the TikTok app, and
at most 5 such shares may wait per 24 hours (``spam_risk_too_many_pending_share``).

Either init answers ``{"data": {"publish_id", "upload_url"}, "error": {"code": "ok", ...}}``; each
chunk is PUT in order to ``upload_url`` (no bearer token: the URL carries its own) with
``Content-Type: video/mp4`` and ``Content-Range: bytes FIRST-LAST/TOTAL``; TikTok answers 206 for a
partial upload and 201 once every chunk is in; the upload_url is valid for one hour.
``POST /v2/post/publish/status/fetch/`` with the publish_id then moves through PROCESSING_UPLOAD
to PUBLISH_COMPLETE (direct) or SEND_TO_USER_INBOX (inbox), or FAILED with a ``fail_reason``;
``publicaly_available_post_id`` (sic) lists the post's id once moderation made it public — a
SELF_ONLY post never gets one.

Errors are ``{"error": {"code", "message", "log_id"}}`` with the HTTP status: access_token_invalid
(401) means the user must connect again; rate_limit_exceeded (429) and 5xx are worth a retry;
spam_risk_* and the like are refusals, told in plain words. Limits: 6 init requests and 30 status
requests a minute per user token; unaudited apps post SELF_ONLY only.
"""
from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from studio.engine.errors import StudioError
from studio.engine.media.probe import probe
from studio.engine.publish.chunks import TIKTOK_CHUNK, ChunkPlan, read_piece, tiktok_plan, video_mime
from studio.engine.publish.platform import Post, Progress, Published, PublishError, TokenSource, http_session
from studio.engine.retry_after import retry_after_s

# Most private first: with nothing chosen, a post goes out as privately as the account allows.
PRIVACY_ORDER = ("SELF_ONLY", "FOLLOWER_OF_CREATOR", "MUTUAL_FOLLOW_FRIENDS", "PUBLIC_TO_EVERYONE")
TITLE_MAX_UTF16 = 2200
_NOT_APPROVED = {"unaudited_client_can_only_post_to_private_accounts", "scope_not_authorized"}
_REFUSALS = {
    "spam_risk_too_many_posts": "this account has posted as many times as TikTok allows for "
                                "today; try again tomorrow",
    "spam_risk_user_banned_from_posting": "TikTok has banned this account from posting",
    "spam_risk_too_many_pending_share": "five videos already wait in this account's TikTok inbox "
                                        "(TikTok's limit for 24 hours); post or delete them in "
                                        "the app first",
    "reached_active_user_cap": "the studio's TikTok app has reached its daily number of posting "
                               "users",
    "privacy_level_option_mismatch": "the privacy level is not one this account offers",
    "url_ownership_unverified": "the media URL's domain is not verified with TikTok",
    "invalid_file_upload": "the file does not meet TikTok's video requirements",
}
_FAIL_REASONS = {
    "file_format_check_failed": "TikTok could not read the video's format (MP4, MOV or WebM)",
    "duration_check_failed": "the video is too long or too short for TikTok",
    "frame_rate_check_failed": "TikTok takes 23 to 60 frames per second",
    "picture_size_check_failed": "TikTok takes 360 to 4096 pixels a side",
    "video_pull_failed": "TikTok could not fetch the video",
    "publish_cancelled": "the post was cancelled",
    "auth_removed": "the account's permission for the studio was removed",
    "spam_risk_too_many_posts": "this account has posted as many times as TikTok allows for today",
    "spam_risk_user_banned_from_posting": "TikTok has banned this account from posting",
    "spam_risk_text": "TikTok flagged the caption as spam",
    "spam_risk": "TikTok flagged the post as spam",
    "internal": "TikTok had an internal error",
}


@dataclass(frozen=True, slots=True)
class CreatorInfo:
    username: str
    privacy_options: tuple[str, ...]
    max_duration_s: int
    comment_disabled: bool
    duet_disabled: bool
    stitch_disabled: bool


@dataclass(frozen=True, slots=True)
class _Upload:
    publish_id: str
    upload_url: str
    inbox: bool
    refused_direct: str = ""  # why direct posting was refused, when it was


class _NotApproved(PublishError):
    """Direct posting is not open to this app or account; the inbox may still take the video."""


class TikTokClient:
    """Posts one video per call; see the module docstring for the requests it makes."""

    name = "tiktok"

    def __init__(self, base_url: str, tokens: TokenSource, *, direct_post: bool,
                 http: httpx.Client | None = None, poll_interval_s: float = 5.0,
                 max_wait_s: float = 1800.0, sleep: Callable[[float], None] = time.sleep,
                 privacy_level: str | None = None, public: bool = False,
                 chunk_size: int = TIKTOK_CHUNK) -> None:
        self.base_url = base_url.rstrip("/")
        self.tokens = tokens
        self.direct_post = direct_post
        self.http = http
        self.poll_interval_s = poll_interval_s
        self.max_polls = max(1, math.ceil(max_wait_s / max(poll_interval_s, 0.001)))
        self.sleep = sleep
        self.privacy_level = privacy_level
        self.public = public  # without a level: the most public offered, else the most private
        self.chunk_size = chunk_size

    def publish(self, post: Post, progress: Progress) -> Published:
        video = _video_of(post)
        plan = tiktok_plan(video.stat().st_size, self.chunk_size)
        with http_session(self.http) as http:
            upload, creator = self._start(http, post, video, plan, progress)
            self._send(http, upload, video, plan, progress)
            status = self._wait(http, upload, progress)
        progress(1.0, "Sent to TikTok")
        return _published(status, upload, creator)

    def _start(self, http: httpx.Client, post: Post, video: Path, plan: ChunkPlan,
               progress: Progress) -> tuple[_Upload, CreatorInfo | None]:
        if not self.direct_post:
            return self._inbox(http, plan), None
        progress(0.01, "Asking TikTok what this account may post")
        try:
            creator = self.creator_info(http)
            level = self._privacy(creator)
            _check_duration(video, creator)
            return self._direct(http, post, plan, creator, level), creator
        except _NotApproved as exc:
            return self._inbox(http, plan, refused=str(exc)), None

    def creator_info(self, http: httpx.Client) -> CreatorInfo:
        data = self._call(http, "/v2/post/publish/creator_info/query/", None)
        return CreatorInfo(
            username=str(data.get("creator_username") or ""),
            privacy_options=tuple(str(o) for o in data.get("privacy_level_options") or ()),
            max_duration_s=int(data.get("max_video_post_duration_sec") or 0),
            comment_disabled=bool(data.get("comment_disabled")),
            duet_disabled=bool(data.get("duet_disabled")),
            stitch_disabled=bool(data.get("stitch_disabled")))

    def _privacy(self, creator: CreatorInfo) -> str:
        offered = creator.privacy_options
        if self.privacy_level is not None:
            if self.privacy_level not in offered:
                raise PublishError(f"TikTok does not offer the privacy level {self.privacy_level} "
                                   f"for this account; it offers {', '.join(offered) or 'none'}.")
            return self.privacy_level
        for level in reversed(PRIVACY_ORDER) if self.public else PRIVACY_ORDER:
            if level in offered:
                return level
        raise PublishError("TikTok offers no privacy level for this account's posts.")

    def _direct(self, http: httpx.Client, post: Post, plan: ChunkPlan, creator: CreatorInfo,
                level: str) -> _Upload:
        post_info = {
            "title": _title(post.caption), "privacy_level": level,
            "disable_comment": creator.comment_disabled, "disable_duet": creator.duet_disabled,
            "disable_stitch": creator.stitch_disabled,
            "brand_content_toggle": False, "brand_organic_toggle": False,
            "is_aigc": post.ai_generated}
        body = {"post_info": post_info, "source_info": _source_info(plan)}
        data = self._call(http, "/v2/post/publish/video/init/", body)
        return _Upload(str(data.get("publish_id") or ""), str(data.get("upload_url") or ""), False)

    def _inbox(self, http: httpx.Client, plan: ChunkPlan, refused: str = "") -> _Upload:
        data = self._call(http, "/v2/post/publish/inbox/video/init/",
                          {"source_info": _source_info(plan)})
        return _Upload(str(data.get("publish_id") or ""), str(data.get("upload_url") or ""), True,
                       refused)

    def _send(self, http: httpx.Client, upload: _Upload, video: Path, plan: ChunkPlan,
              progress: Progress) -> None:
        if not upload.publish_id or not upload.upload_url:
            raise PublishError("TikTok did not say where to upload the video.", transient=True)
        mime = video_mime(video)
        for piece in plan.pieces():
            progress(0.05 + 0.85 * piece.start / plan.video_size,
                     f"Uploading to TikTok ({piece.index + 1}/{plan.total_chunk_count})")
            headers = {"Content-Type": mime, "Content-Range": piece.content_range(plan.video_size)}
            try:
                response = http.put(upload.upload_url, content=read_piece(video, piece),
                                    headers=headers)
            except httpx.TransportError as exc:
                raise PublishError(f"The upload to TikTok was cut off ({type(exc).__name__}).",
                                   transient=True) from None
            if response.status_code not in (200, 201, 206):
                raise _upload_error(response)

    def _wait(self, http: httpx.Client, upload: _Upload, progress: Progress) -> dict[str, Any]:
        done = {"SEND_TO_USER_INBOX", "PUBLISH_COMPLETE"} if upload.inbox else {"PUBLISH_COMPLETE"}
        data: dict[str, Any] = {}
        for poll in range(self.max_polls):
            data = self._call(http, "/v2/post/publish/status/fetch/",
                              {"publish_id": upload.publish_id})
            status = str(data.get("status") or "")
            if status in done:
                return data
            if status == "FAILED":
                raise _failed(str(data.get("fail_reason") or ""))
            progress(min(0.99, 0.9 + 0.09 * poll / self.max_polls), "TikTok is processing the video")
            self.sleep(self.poll_interval_s)
        return {**data, "pending": True}

    def _call(self, http: httpx.Client, path: str, body: dict[str, Any] | None) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {self.tokens()}",
                   "Content-Type": "application/json; charset=UTF-8"}
        try:
            response = http.post(f"{self.base_url}{path}", json=body, headers=headers)
        except httpx.TransportError as exc:
            raise PublishError(f"Could not reach TikTok ({type(exc).__name__}).",
                               transient=True) from None
        answer = _json(response)
        error = _dict(answer.get("error"))
        code = str(error.get("code") or ("ok" if response.is_success else ""))
        if response.is_success and code == "ok":
            return _dict(answer.get("data"))
        raise _api_error(response, code, str(error.get("message") or ""))


def _video_of(post: Post) -> Path:
    if post.kind != "video" or len(post.files) != 1:
        raise PublishError("TikTok posts here are one video; this post is "
                           f"{'a carousel' if post.kind == 'carousel' else 'a picture'}.")
    video = post.files[0]
    if not video.is_file():
        raise PublishError(f"The video {video.name} is missing; produce the post again.")
    return video


def _check_duration(video: Path, creator: CreatorInfo) -> None:
    try:
        seconds = probe(video).duration_s
    except StudioError as exc:
        raise PublishError(str(exc)) from None
    if creator.max_duration_s and seconds > creator.max_duration_s:
        raise PublishError(f"The video is {seconds:.0f} s long; TikTok takes at most "
                           f"{creator.max_duration_s} s from this account.")


def _title(caption: str) -> str:
    """The caption cut to TikTok's 2200 UTF-16 code units (emoji count twice)."""
    units = caption.encode("utf-16-le")
    if len(units) <= 2 * TITLE_MAX_UTF16:
        return caption
    return units[:2 * TITLE_MAX_UTF16].decode("utf-16-le", errors="ignore")


def _source_info(plan: ChunkPlan) -> dict[str, Any]:
    return {"source": "FILE_UPLOAD", "video_size": plan.video_size,
            "chunk_size": plan.chunk_size, "total_chunk_count": plan.total_chunk_count}


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        answer = response.json()
    except ValueError:
        return {}
    return answer if isinstance(answer, dict) else {}


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _api_error(response: httpx.Response, code: str, message: str) -> PublishError:
    status = response.status_code
    if code == "access_token_invalid" or (status == 401 and code not in _NOT_APPROVED):
        return PublishError("TikTok's authorization has expired or was revoked; reconnect TikTok.",
                            reconnect=True)
    if code in _NOT_APPROVED:
        return _NotApproved("TikTok does not let the studio post directly for this account "
                            f"({code}); reconnect TikTok and allow posting.", reconnect=True)
    if code == "rate_limit_exceeded" or status == 429 or status >= 500:
        return PublishError(f"TikTok is busy (HTTP {status}{', ' + code if code else ''}); "
                            "the post will be tried again.", transient=True,
                            retry_after=retry_after_s(response.headers.get("retry-after")))
    reason = _REFUSALS.get(code) or message.rstrip(".") or f"HTTP {status}"
    return PublishError(f"TikTok refused the post: {reason}.")


def _upload_error(response: httpx.Response) -> PublishError:
    status = response.status_code
    if status == 429 or status >= 500:
        return PublishError(f"TikTok's upload server is busy (HTTP {status}); the post will be "
                            "tried again.", transient=True,
                            retry_after=retry_after_s(response.headers.get("retry-after")))
    message = str(_dict(_json(response).get("error")).get("message") or "").rstrip(".")
    return PublishError(f"TikTok refused the upload (HTTP {status}{': ' + message if message else ''}).")


def _failed(reason: str) -> PublishError:
    words = _FAIL_REASONS.get(reason, reason.replace("_", " ") or "no reason given")
    if reason == "auth_removed":
        return PublishError(f"TikTok did not publish the video: {words}; reconnect TikTok.",
                            reconnect=True)
    return PublishError(f"TikTok did not publish the video: {words}.",
                        transient=reason == "internal")


def _published(status: dict[str, Any], upload: _Upload, creator: CreatorInfo | None) -> Published:
    meta: dict[str, object] = {"publish_id": upload.publish_id,
                               "mode": "inbox" if upload.inbox else "direct"}
    if upload.refused_direct:
        meta["direct_post_refused"] = upload.refused_direct
    username = creator.username if creator else ""
    ids = [str(i) for i in status.get("publicaly_available_post_id") or ()]
    if status.get("pending"):
        meta.update(status="processing", message="TikTok took the video and is still processing "
                    "it; it appears on the account when TikTok is done.")
        return Published(upload.publish_id, _profile(username), meta)
    if upload.inbox and status.get("status") == "SEND_TO_USER_INBOX":
        meta.update(status="inbox", message="Sent to the TikTok app's inbox: open TikTok to "
                    "finish the post.")
        return Published(upload.publish_id, "", meta)
    if ids:
        meta["status"] = "published"
        url = f"https://www.tiktok.com/@{username}/video/{ids[0]}" if username else ""
        return Published(ids[0], url, meta)
    meta.update(status="private", message="Posted; TikTok gives no post link for a post only "
                "its owner can see.")
    return Published(upload.publish_id, _profile(username), meta)


def _profile(username: str) -> str:
    return f"https://www.tiktok.com/@{username}" if username else ""
