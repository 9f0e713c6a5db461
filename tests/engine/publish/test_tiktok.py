"""TikTokClient against the Content Posting API stand-in (tests/fakes/tiktok_api.py)."""
from __future__ import annotations

import itertools
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from studio.engine.errors import InvalidInput
from studio.engine.publish.chunks import MIB, tiktok_plan
from studio.engine.publish.platform import Post, PublishError
from studio.engine.publish.tiktok import TikTokClient
from tests.fakes.tiktok_api import FakeTikTok, chunk_problem


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory, ffmpeg: str) -> Path:
    """A real 2-second H.264 MP4 (the client reads its duration)."""
    path = tmp_path_factory.mktemp("tiktok") / "short.mp4"
    subprocess.run([ffmpeg, "-v", "error", "-y", "-f", "lavfi", "-i",
                    "testsrc2=size=180x320:rate=25:duration=2", "-c:v", "libx264", "-preset",
                    "ultrafast", "-pix_fmt", "yuv420p", str(path)], check=True, capture_output=True)
    return path


def padded(clip: Path, path: Path, size: int) -> Path:
    """The clip grown to ``size`` bytes by a trailing MP4 ``free`` box (players skip it); the
    padding is a sparse hole, so nothing big is written."""
    data = clip.read_bytes()
    with path.open("wb") as handle:
        handle.write(data + (size - len(data)).to_bytes(4, "big") + b"free")
        handle.truncate(size)
    return path


@pytest.fixture
def tiktok() -> Iterator[FakeTikTok]:
    with FakeTikTok() as fake:
        yield fake


def client(fake: FakeTikTok, *, direct: bool = True, token: str | None = None,
           naps: list[float] | None = None, **options: object) -> TikTokClient:
    """A client of the stand-in whose waits between status polls are only noted in ``naps``."""
    return TikTokClient(fake.base_url, lambda: token or fake.token, direct_post=direct,
                        sleep=(naps if naps is not None else []).append,
                        **options)  # type: ignore[arg-type]


def video_post(path: Path, caption: str = "Golden hour on the pier #sunset #ai") -> Post:
    return Post(kind="video", files=(path,), caption=caption, title="Golden hour")


def no_progress(fraction: float, message: str) -> None:
    pass


# The chunk plan ---------------------------------------------------------------------------------

@pytest.mark.parametrize("size", [
    1, 4_999_999, 5 * MIB - 1, 5 * MIB, 10 * MIB, 20 * MIB - 1, 20 * MIB, 50_000_123,
    64_000_000, 64_000_001, 200 * MIB + 17, 4 * 1024 * MIB, 10_485_760_000 + 1, 60_000_000_000])
def test_the_chunk_plan_follows_tiktoks_rules(size: int) -> None:
    plan = tiktok_plan(size)
    assert chunk_problem({"source": "FILE_UPLOAD", "video_size": size,
                          "chunk_size": plan.chunk_size,
                          "total_chunk_count": plan.total_chunk_count}) == ""
    pieces = list(plan.pieces())
    assert len(pieces) == plan.total_chunk_count == size // plan.chunk_size
    assert pieces[0].start == 0 and pieces[-1].end == size - 1
    assert all(a.end + 1 == b.start for a, b in itertools.pairwise(pieces))
    assert all(p.size == plan.chunk_size for p in pieces[:-1])
    assert plan.chunk_size <= pieces[-1].size < 2 * plan.chunk_size or size < 5 * MIB


def test_the_guides_example_and_the_limits() -> None:
    example = list(tiktok_plan(50_000_123, preferred=10_000_000).pieces())
    assert [p.size for p in example] == [10_000_000] * 4 + [10_000_123]
    assert example[-1].content_range(50_000_123) == "bytes 40000000-50000122/50000123"
    assert tiktok_plan(3 * MIB).chunk_size == 3 * MIB  # under 5 MB: whole
    assert tiktok_plan(60_000_000_000).total_chunk_count <= 1000  # chunks grow, not their count
    with pytest.raises(InvalidInput, match="1000 chunks"):
        tiktok_plan(70_000_000_000)
    with pytest.raises(InvalidInput, match="chunk must be"):
        tiktok_plan(100 * MIB, preferred=4 * MIB)


@pytest.mark.parametrize(("source", "problem"), [
    ({"video_size": 50_000_123, "chunk_size": 10_000_000, "total_chunk_count": 6}, "total chunk"),
    ({"video_size": 50_000_123, "chunk_size": 4 * MIB, "total_chunk_count": 11}, "chunk size"),
    ({"video_size": 3 * MIB, "chunk_size": MIB, "total_chunk_count": 3}, "uploaded whole"),
    ({"video_size": 100 * MIB, "chunk_size": 100 * MIB, "total_chunk_count": 1}, "multiple"),
    ({"video_size": 300_000_000, "chunk_size": 60_000_000, "total_chunk_count": 4}, "total chunk"),
])
def test_the_stand_in_refuses_what_tiktok_refuses(source: dict[str, int], problem: str) -> None:
    assert problem in chunk_problem({"source": "FILE_UPLOAD", **source})


# Direct post ------------------------------------------------------------------------------------

def test_a_direct_post_goes_out_as_privately_as_the_account_allows(tiktok: FakeTikTok,
                                                                 clip: Path) -> None:
    steps: list[tuple[float, str]] = []
    published = client(tiktok).publish(video_post(clip), lambda f, m: steps.append((f, m)))

    assert [r.endpoint for r in tiktok.received] == [
        "creator_info", "video_init", "upload", "status", "status"]
    init = tiktok.calls("video_init")[0].body
    assert init["post_info"] == {
        "title": "Golden hour on the pier #sunset #ai", "privacy_level": "SELF_ONLY",
        "disable_comment": False, "disable_duet": False, "disable_stitch": True,
        "brand_content_toggle": False, "brand_organic_toggle": False, "is_aigc": True}
    size = clip.stat().st_size
    assert init["source_info"] == {"source": "FILE_UPLOAD", "video_size": size,
                                   "chunk_size": size, "total_chunk_count": 1}
    upload = tiktok.uploads[published.remote_id]
    assert bytes(upload.data) == clip.read_bytes()
    assert "authorization" not in tiktok.calls("upload")[0].headers  # the URL carries its token
    assert published.url == "https://www.tiktok.com/@studio.creator"
    assert published.meta["status"] == "private" and published.meta["mode"] == "direct"
    assert steps[-1] == (1.0, "Sent to TikTok")
    assert [f for f, _ in steps] == sorted(f for f, _ in steps)


def test_a_public_post_in_chunks_gets_its_link(tiktok: FakeTikTok, clip: Path,
                                               tmp_path: Path) -> None:
    big = padded(clip, tmp_path / "big.mp4", 11 * MIB + 123)
    tiktok.processing_polls = 3
    naps: list[float] = []
    made = client(tiktok, naps=naps, privacy_level="PUBLIC_TO_EVERYONE", chunk_size=5 * MIB)
    published = made.publish(video_post(big), no_progress)

    uploads = tiktok.calls("upload")
    assert [u.headers["content-range"] for u in uploads] == [
        f"bytes 0-{5 * MIB - 1}/{big.stat().st_size}",
        f"bytes {5 * MIB}-{big.stat().st_size - 1}/{big.stat().st_size}"]
    assert all(u.headers["content-type"] == "video/mp4" for u in uploads)
    assert bytes(tiktok.uploads[str(published.meta["publish_id"])].data) == big.read_bytes()
    assert naps == [5.0, 5.0, 5.0]
    assert published.url == f"https://www.tiktok.com/@studio.creator/video/{published.remote_id}"
    assert published.meta["status"] == "published"


def test_an_uncaptioned_emoji_wall_is_cut_to_2200_utf16_units(tiktok: FakeTikTok,
                                                              clip: Path) -> None:
    client(tiktok).publish(video_post(clip, "✨😀" * 1000), no_progress)
    title = tiktok.calls("video_init")[0].body["post_info"]["title"]
    assert len(title.encode("utf-16-le")) // 2 <= 2200 and title.startswith("✨😀✨")


def test_a_video_too_long_for_the_account_is_refused_before_uploading(clip: Path) -> None:
    with FakeTikTok(max_duration_s=1) as tiktok, pytest.raises(PublishError) as caught:
        client(tiktok).publish(video_post(clip), no_progress)
    assert str(caught.value) == "The video is 2 s long; TikTok takes at most 1 s from this account."
    assert not caught.value.transient and tiktok.calls("video_init") == []


def test_a_privacy_level_the_account_lacks_is_named(clip: Path) -> None:
    with FakeTikTok(privacy_options=("SELF_ONLY",)) as tiktok, pytest.raises(PublishError) as caught:
        client(tiktok, privacy_level="PUBLIC_TO_EVERYONE").publish(video_post(clip), no_progress)
    assert "offers SELF_ONLY" in str(caught.value)


def test_only_videos_go_to_tiktok(tiktok: FakeTikTok, clip: Path) -> None:
    with pytest.raises(PublishError, match="one video; this post is a carousel"):
        client(tiktok).publish(Post(kind="carousel", files=(clip, clip), caption=""), no_progress)


# Inbox ------------------------------------------------------------------------------------------

def test_an_app_not_approved_for_direct_post_sends_to_the_inbox(tiktok: FakeTikTok,
                                                                clip: Path) -> None:
    published = client(tiktok, direct=False).publish(video_post(clip), no_progress)
    assert [r.endpoint for r in tiktok.received] == ["inbox_init", "upload", "status", "status"]
    assert set(tiktok.calls("inbox_init")[0].body) == {"source_info"}
    assert published.url == "" and published.meta["status"] == "inbox"
    assert "open TikTok" in str(published.meta["message"])
    assert bytes(tiktok.uploads[published.remote_id].data) == clip.read_bytes()


def test_a_full_inbox_is_told_plainly(tiktok: FakeTikTok, clip: Path) -> None:
    for _ in range(5):
        client(tiktok, direct=False).publish(video_post(clip), no_progress)
    with pytest.raises(PublishError) as caught:
        client(tiktok, direct=False).publish(video_post(clip), no_progress)
    assert "five videos already wait in this account's TikTok inbox" in str(caught.value)
    assert not caught.value.transient


@pytest.mark.parametrize("fake_options", [
    {"audited": False, "account_private": False},  # unaudited app, public account
    {"scopes": ("user.info.basic", "video.upload")},  # video.publish not granted
])
def test_a_refused_direct_post_falls_back_to_the_inbox(clip: Path,
                                                       fake_options: dict[str, object]) -> None:
    with FakeTikTok(**fake_options) as tiktok:  # type: ignore[arg-type]
        published = client(tiktok).publish(video_post(clip), no_progress)
    assert published.meta["mode"] == "inbox" and published.meta["status"] == "inbox"
    assert "direct" in str(published.meta["direct_post_refused"])
    assert len(tiktok.calls("inbox_init")) == 1 and len(tiktok.uploads) == 1


def test_an_account_that_granted_neither_scope_asks_to_reconnect(clip: Path) -> None:
    with FakeTikTok(scopes=("user.info.basic",)) as tiktok, pytest.raises(PublishError) as caught:
        client(tiktok).publish(video_post(clip), no_progress)
    assert caught.value.reconnect and "scope_not_authorized" in str(caught.value)
    assert [r.endpoint for r in tiktok.received] == ["creator_info", "inbox_init"]


# Errors -----------------------------------------------------------------------------------------

def test_an_expired_token_asks_to_reconnect(tiktok: FakeTikTok, clip: Path) -> None:
    with pytest.raises(PublishError) as caught:
        client(tiktok, token="act.expired").publish(video_post(clip), no_progress)
    assert caught.value.reconnect and not caught.value.transient
    assert str(caught.value) == "TikTok's authorization has expired or was revoked; reconnect TikTok."


@pytest.mark.parametrize(("endpoint", "code", "status", "transient", "words"), [
    ("video_init", "rate_limit_exceeded", 429, True, "busy (HTTP 429, rate_limit_exceeded)"),
    ("creator_info", "internal_error", 500, True, "busy (HTTP 500"),
    ("video_init", "spam_risk_too_many_posts", 403, False, "try again tomorrow"),
    ("video_init", "reached_active_user_cap", 403, False, "daily number of posting users"),
    ("status", "invalid_param", 400, False, "TikTok refused the post: invalid param."),
    ("upload", "internal_error", 503, True, "upload server is busy (HTTP 503)"),
])
def test_each_error_is_classed_and_told_plainly(tiktok: FakeTikTok, clip: Path, endpoint: str,
                                                code: str, status: int, transient: bool,
                                                words: str) -> None:
    tiktok.refuse(endpoint, code, status, retry_after="7" if status == 429 else None)
    with pytest.raises(PublishError) as caught:
        client(tiktok).publish(video_post(clip), no_progress)
    assert caught.value.transient is transient and not caught.value.reconnect
    assert words in str(caught.value) and "\n" not in str(caught.value)
    assert caught.value.retry_after == (7.0 if status == 429 else None)


@pytest.mark.parametrize(("reason", "transient", "words"), [
    ("frame_rate_check_failed", False, "23 to 60 frames per second"),
    ("internal", True, "internal error"),
    ("some_new_reason", False, "some new reason"),
])
def test_a_failed_post_says_why(tiktok: FakeTikTok, clip: Path, reason: str, transient: bool,
                                words: str) -> None:
    tiktok.fail_reason = reason
    with pytest.raises(PublishError) as caught:
        client(tiktok).publish(video_post(clip), no_progress)
    assert str(caught.value).startswith("TikTok did not publish the video: ")
    assert words in str(caught.value) and caught.value.transient is transient


def test_an_unreachable_tiktok_is_worth_a_retry(clip: Path) -> None:
    with FakeTikTok() as tiktok:
        base_url = tiktok.base_url
    made = TikTokClient(base_url, lambda: "act.x", direct_post=True,
                        http=httpx.Client(timeout=2.0))
    with pytest.raises(PublishError) as caught:
        made.publish(video_post(clip), no_progress)
    assert caught.value.transient and str(caught.value).startswith("Could not reach TikTok")


def test_a_post_still_processing_at_the_deadline_is_not_sent_twice(tiktok: FakeTikTok,
                                                                   clip: Path) -> None:
    tiktok.processing_polls = 100
    made = client(tiktok, poll_interval_s=5.0, max_wait_s=15.0)
    published = made.publish(video_post(clip), no_progress)
    assert len(tiktok.calls("status")) == 3 and published.meta["status"] == "processing"
    assert published.remote_id == published.meta["publish_id"]


@pytest.mark.parametrize(("public", "offered", "chosen"), [
    (True, ("SELF_ONLY", "MUTUAL_FOLLOW_FRIENDS", "PUBLIC_TO_EVERYONE"), "PUBLIC_TO_EVERYONE"),
    (True, ("SELF_ONLY",), "SELF_ONLY"),  # an app TikTok has not audited posts privately only
    (False, ("SELF_ONLY", "MUTUAL_FOLLOW_FRIENDS", "PUBLIC_TO_EVERYONE"), "SELF_ONLY"),
])
def test_public_posts_take_the_most_public_level_the_account_offers(
        clip: Path, public: bool, offered: tuple[str, ...], chosen: str) -> None:
    with FakeTikTok(privacy_options=offered) as tiktok:
        client(tiktok, public=public).publish(video_post(clip), no_progress)
    assert tiktok.calls("video_init")[0].body["post_info"]["privacy_level"] == chosen
