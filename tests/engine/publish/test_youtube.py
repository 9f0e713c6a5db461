"""YouTubeClient against the resumable-upload stand-in (tests/fakes/youtube_api.py)."""
from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from studio.engine.errors import InvalidInput
from studio.engine.publish.platform import Post, PublishError
from studio.engine.publish.youtube import YouTubeClient
from tests.fakes.youtube_api import FakeYouTube

KIB = 1024
CHUNK = 512 * KIB  # two units of 256 KiB, small enough for many chunks in a test


@pytest.fixture
def video(tmp_path: Path) -> Path:
    """YouTube takes any bytes as the upload; random ones show a misplaced byte."""
    path = tmp_path / "short.mp4"
    path.write_bytes(os.urandom(1_300_000))
    return path


@pytest.fixture
def youtube() -> Iterator[FakeYouTube]:
    with FakeYouTube() as fake:
        yield fake


def client(fake: FakeYouTube, *, token: str | None = None, naps: list[float] | None = None,
           **options: object) -> YouTubeClient:
    """A client of the stand-in whose back-off waits are only noted in ``naps``."""
    return YouTubeClient(fake.api_url, fake.upload_url, lambda: token or fake.token,
                         chunk_size=CHUNK, sleep=(naps if naps is not None else []).append,
                         **options)  # type: ignore[arg-type]


def short(video: Path, **fields: object) -> Post:
    values: dict[str, object] = {
        "kind": "video", "files": (video,), "title": "Golden hour on the pier",
        "caption": "Golden hour on the pier 🌅\n#sunset #aiart", "tags": ("#sunset", "ai art")}
    return Post(**{**values, **fields})  # type: ignore[arg-type]


def no_progress(fraction: float, message: str) -> None:
    pass


def test_a_short_is_uploaded_in_chunks_with_its_disclosure(youtube: FakeYouTube,
                                                          video: Path) -> None:
    steps: list[float] = []
    published = client(youtube).publish(short(video), lambda f, m: steps.append(f))

    opened = youtube.calls("open")[0]
    assert opened.body == {
        "snippet": {"title": "Golden hour on the pier",
                    "description": "Golden hour on the pier 🌅\n#sunset #aiart\n\n#Shorts",
                    "tags": ["sunset", "ai art"], "categoryId": "22"},
        "status": {"privacyStatus": "public", "selfDeclaredMadeForKids": False,
                   "containsSyntheticMedia": True}}
    assert opened.headers["x-upload-content-length"] == "1300000"
    assert opened.headers["x-upload-content-type"] == "video/mp4"
    assert [c.body for c in youtube.calls("chunk")] == [
        "bytes 0-524287/1300000", "bytes 524288-1048575/1300000", "bytes 1048576-1299999/1300000"]
    assert youtube.video(published.remote_id) == video.read_bytes()
    assert published.url == f"https://youtube.com/shorts/{published.remote_id}"
    assert published.meta["quota_method"] == "videos.insert" and published.meta["quota_units"] == 1
    assert published.meta["privacy_status"] == "public"
    assert steps[-1] == 1.0 and steps == sorted(steps)


def test_a_cut_connection_resumes_where_the_server_stands(youtube: FakeYouTube,
                                                          video: Path) -> None:
    youtube.cut_at(900_000)  # in the second chunk; the server keeps 786,432 bytes (3 × 256 KiB)
    naps: list[float] = []
    published = client(youtube, naps=naps).publish(short(video), no_progress)

    assert [c.body for c in youtube.calls("chunk")] == [
        "bytes 0-524287/1300000", "bytes 524288-1048575/1300000",  # cut after 900,000
        "bytes 786432-1299999/1300000"]  # resumed inside the chunk that broke
    assert len(youtube.calls("ask")) == 1 and naps == [1.0]
    assert youtube.video(published.remote_id) == video.read_bytes()  # byte for byte


def test_server_errors_back_off_exponentially_then_resume(youtube: FakeYouTube,
                                                           video: Path) -> None:
    youtube.fail_next_put(503, 502, 500)
    naps: list[float] = []
    published = client(youtube, naps=naps).publish(short(video), no_progress)
    assert naps == [1.0, 2.0, 4.0]  # no byte got through between them: the waits double
    assert youtube.video(published.remote_id) == video.read_bytes()
    assert len(youtube.calls("ask")) == 3


def test_an_upload_that_keeps_breaking_gives_up_as_transient(youtube: FakeYouTube,
                                                             video: Path) -> None:
    youtube.cut_at(*[100_000] * 10)  # the first chunk never gets through
    naps: list[float] = []
    with pytest.raises(PublishError) as caught:
        client(youtube, naps=naps, max_tries=3).publish(short(video), no_progress)
    assert caught.value.transient and "broke off 3 times" in str(caught.value)
    assert naps == [1.0, 2.0, 4.0]


def test_a_server_that_keeps_nothing_does_not_hold_the_upload_forever(youtube: FakeYouTube,
                                                                       video: Path) -> None:
    youtube.fail_next_put(*[308] * 10)
    naps: list[float] = []
    with pytest.raises(PublishError, match="broke off 2 times") as caught:
        client(youtube, naps=naps, max_tries=2).publish(short(video), no_progress)
    assert caught.value.transient and naps == [1.0, 2.0]


def test_the_quota_used_up_is_a_plain_permanent_error(video: Path) -> None:
    with FakeYouTube(quota_left=0) as youtube, pytest.raises(PublishError) as caught:
        client(youtube).publish(short(video), no_progress)
    assert str(caught.value) == "YouTube's daily upload quota is used up; try tomorrow."
    assert not caught.value.transient and not caught.value.reconnect


def test_an_expired_token_asks_to_reconnect(youtube: FakeYouTube, video: Path) -> None:
    with pytest.raises(PublishError) as caught:
        client(youtube, token="ya29.expired").publish(short(video), no_progress)
    assert caught.value.reconnect
    assert str(caught.value) == ("YouTube's authorization has expired or was revoked; reconnect "
                                 "YouTube.")


@pytest.mark.parametrize(("status", "retry_after"), [(429, "30"), (503, None)])
def test_busy_youtube_is_retried_later(youtube: FakeYouTube, video: Path, status: int,
                                       retry_after: str | None) -> None:
    youtube.fail_next_open(status, retry_after)
    with pytest.raises(PublishError) as caught:
        client(youtube).publish(short(video), no_progress)
    assert caught.value.transient and f"HTTP {status}" in str(caught.value)
    assert caught.value.retry_after == (30.0 if retry_after else None)


def test_an_expired_session_starts_over(youtube: FakeYouTube, video: Path) -> None:
    youtube.fail_next_put(404)  # Google has forgotten the session
    with pytest.raises(PublishError, match="session expired") as caught:
        client(youtube).publish(short(video), no_progress)
    assert caught.value.transient and youtube.calls("ask") == []


def test_titles_descriptions_and_tags_fit_youtubes_limits(youtube: FakeYouTube,
                                                          video: Path) -> None:
    long_tags = tuple(f"tag number {i}" for i in range(60))
    post = short(video, title="<b>" + "x" * 150, caption="Look >> here #shorts",
                 tags=long_tags, ai_generated=False)
    client(youtube).publish(post, no_progress)
    sent = youtube.calls("open")[0].body
    assert len(sent["snippet"]["title"]) == 100 and "<" not in sent["snippet"]["title"]
    assert sent["snippet"]["description"] == "Look ›› here #shorts"  # #Shorts already there
    tags = sent["snippet"]["tags"]
    assert sum(len(t) + 2 for t in tags) + len(tags) - 1 <= 500 < sum(
        len(t) + 2 for t in long_tags)
    assert sent["status"]["containsSyntheticMedia"] is False


def test_the_title_falls_back_to_the_captions_first_line(youtube: FakeYouTube,
                                                         video: Path) -> None:
    client(youtube).publish(short(video, title=""), no_progress)
    assert youtube.calls("open")[0].body["snippet"]["title"] == "Golden hour on the pier 🌅"


def test_a_chunk_size_youtube_refuses_is_refused_here(youtube: FakeYouTube) -> None:
    with pytest.raises(InvalidInput, match="multiple of 256 KiB"):
        YouTubeClient(youtube.api_url, youtube.upload_url, lambda: "t", chunk_size=1_000_000)


def test_an_unreachable_youtube_is_worth_a_retry(video: Path) -> None:
    with FakeYouTube() as youtube:
        upload_url = youtube.upload_url
    made = YouTubeClient("http://127.0.0.1:9/youtube/v3", upload_url, lambda: "t",
                         http=httpx.Client(timeout=2.0))
    with pytest.raises(PublishError) as caught:
        made.publish(short(video), no_progress)
    assert caught.value.transient and str(caught.value).startswith("Could not reach YouTube")
