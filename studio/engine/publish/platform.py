"""What every platform client takes and gives, so the publish job treats them alike.

A client posts one finished plan item: ``publish(post, progress)`` returns the platform's post id
and URL, or raises PublishError. It gets a fresh access token from ``tokens`` before each request
burst (the OAuth module refreshes it before expiry) and never stores one itself."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Protocol

from studio.engine.errors import StudioError

if TYPE_CHECKING:  # httpx loads only when a post is made: the CLI starts without it
    import httpx

PLATFORMS = ("instagram", "tiktok", "youtube")
UPLOAD_TIMEOUT_S = (120.0, 15.0)  # (any read or write, connect): a chunk of many MB on a slow uplink
Progress = Callable[[float, str], None]
TokenSource = Callable[[], str]  # a valid access token (refreshed when near expiry)


@dataclass(frozen=True, slots=True)
class Post:
    """A finished plan item as the platforms take it."""

    kind: Literal["image", "video", "carousel"]
    files: tuple[Path, ...]  # the picture(s) or the video, in order
    caption: str  # caption and hashtags, as the platform shows them
    title: str = ""  # YouTube's title (the item's hook or topic)
    tags: tuple[str, ...] = ()
    cover: Path | None = None  # a video's cover frame
    public_urls: tuple[str, ...] = ()  # the files at public URLs (Instagram fetches them)
    cover_url: str = ""
    ai_generated: bool = True  # each platform's AI/synthetic-media disclosure


@dataclass(frozen=True, slots=True)
class Published:
    remote_id: str
    url: str
    meta: dict[str, object] = field(default_factory=dict)  # e.g. YouTube's quota units used


class PublishError(StudioError):
    """A post that did not go out. ``transient`` (429, 5xx, a cut connection): the job retries,
    after ``retry_after`` seconds when the platform said so. ``reconnect``: the account's
    authorization is gone (expired or revoked token) and the user must connect it again."""

    def __init__(self, message: str, *, transient: bool = False, retry_after: float | None = None,
                 reconnect: bool = False) -> None:
        super().__init__(message)
        self.transient = transient
        self.retry_after = retry_after
        self.reconnect = reconnect


class Platform(Protocol):
    name: str

    def publish(self, post: Post, progress: Progress) -> Published: ...


@contextmanager
def http_session(given: httpx.Client | None,
                 timeout: httpx.Timeout | float | None = None) -> Iterator[httpx.Client]:
    """The caller's client (a test's, left open), or one of our own for this call, closed after;
    ``timeout`` seconds, else the upload timeouts."""
    if given is not None:
        yield given
        return
    import httpx

    if isinstance(timeout, httpx.Timeout):
        limits = timeout
    elif timeout:
        limits = httpx.Timeout(timeout)
    else:
        limits = httpx.Timeout(UPLOAD_TIMEOUT_S[0], connect=UPLOAD_TIMEOUT_S[1])
    with httpx.Client(timeout=limits) as own:
        yield own
