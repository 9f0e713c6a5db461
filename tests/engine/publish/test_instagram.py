"""The Instagram client against a stand-in Graph API: the container flow, polling, the quota,
an expired token, a rate limit and the public-URL rule."""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import httpx
import pytest

from studio.engine.publish.instagram import InstagramClient
from studio.engine.publish.platform import Post, Progress, PublishError
from tests.fakes.instagram_api import FakeInstagram

PICTURE = "https://cdn.example.net/publish/mia/2026-12-06/post.jpg"


@pytest.fixture
def graph() -> Iterator[FakeInstagram]:
    with FakeInstagram() as fake:
        yield fake


def _client(graph: FakeInstagram, sleeps: list[float] | None = None,
            token: str = "IGAA-long-lived", http: httpx.Client | None = None) -> InstagramClient:
    asked: list[float] = sleeps if sleeps is not None else []
    return InstagramClient(graph.url + "/v24.0", lambda: token, graph.user_id, poll_interval_s=5.0,
                           sleep=asked.append, http=http)


def _post(kind: str = "image", urls: tuple[str, ...] = (PICTURE,), **extra: object) -> Post:
    files = tuple(Path(u.rsplit("/", 1)[-1]) for u in urls)
    return Post(kind=kind, files=files, caption="Sunday light ✨ #mia #sunday",  # type: ignore[arg-type]
                public_urls=urls, **extra)  # type: ignore[arg-type]


def _progress() -> tuple[list[tuple[float, str]], Progress]:
    seen: list[tuple[float, str]] = []
    return seen, lambda fraction, message: seen.append((fraction, message))


def test_a_picture_is_a_container_then_published_with_its_permalink(graph: FakeInstagram) -> None:
    seen, progress = _progress()

    published = _client(graph).publish(_post(), progress)

    [container] = graph.published
    assert container.fields == {"image_url": PICTURE, "caption": "Sunday light ✨ #mia #sunday"}
    assert published.remote_id == f"m{container.id}"
    assert published.url == "https://www.instagram.com/p/FAKE0/"
    assert published.meta["quota_usage"] == 1
    # The quota is read before anything is created; the access token goes as documented.
    assert graph.paths()[0] == f"/{graph.user_id}/content_publishing_limit"
    assert all(params["access_token"] == "IGAA-long-lived" for _, _, params in graph.received)
    assert seen[-1] == (1.0, "Published on Instagram")
    assert [f for f, _ in seen] == sorted(f for f, _ in seen)


def test_a_reel_is_polled_until_finished_with_the_interval_between_reads(graph: FakeInstagram) -> None:
    sleeps: list[float] = []
    video = "https://cdn.example.net/publish/mia/clip.mp4"
    post = _post("video", (video,), cover_url="https://cdn.example.net/publish/mia/cover.jpg")

    _client(graph, sleeps).publish(post, lambda f, m: None)

    [container] = graph.published
    assert container.fields == {"media_type": "REELS", "video_url": video, "caption": post.caption,
                                "cover_url": "https://cdn.example.net/publish/mia/cover.jpg"}
    assert sleeps == [5.0, 5.0]  # two IN_PROGRESS answers, then FINISHED
    status_reads = [p for p in graph.received if p[1] == f"/{container.id}"]
    assert len(status_reads) == 3 and status_reads[0][2]["fields"] == "status_code,status"


def test_a_carousel_is_made_of_item_containers_then_one_carousel(graph: FakeInstagram) -> None:
    urls = ("https://cdn.example.net/a.jpg", "https://cdn.example.net/b.jpg", "https://cdn.example.net/c.mp4")

    _client(graph).publish(_post("carousel", urls), lambda f, m: None)

    [carousel] = graph.published
    children = carousel.fields["children"].split(",")
    assert carousel.fields["media_type"] == "CAROUSEL" and carousel.fields["caption"].startswith("Sunday")
    assert [graph.containers[c].fields for c in children] == [
        {"is_carousel_item": "true", "image_url": urls[0]},
        {"is_carousel_item": "true", "image_url": urls[1]},
        {"is_carousel_item": "true", "media_type": "VIDEO", "video_url": urls[2]}]


def test_a_carousel_of_one_is_refused_before_any_request(graph: FakeInstagram) -> None:
    with pytest.raises(PublishError, match="carousel takes 2 to 10"):
        _client(graph).publish(_post("carousel"), lambda f, m: None)

    assert graph.paths("POST") == []


def test_a_container_that_fails_processing_gives_instagrams_reason(graph: FakeInstagram) -> None:
    graph.container_error = "Error: The video's aspect ratio is not supported"

    with pytest.raises(PublishError) as caught:
        _client(graph).publish(_post("video", ("https://cdn.example.net/clip.mp4",)), lambda f, m: None)

    assert str(caught.value) == ("Instagram could not process the media: Error: The video's aspect "
                                 "ratio is not supported.")
    assert not caught.value.transient and graph.published == []


def test_a_used_up_quota_refuses_plainly_before_creating_anything(graph: FakeInstagram) -> None:
    graph.quota_usage = 100

    with pytest.raises(PublishError) as caught:
        _client(graph).publish(_post(), lambda f, m: None)

    assert str(caught.value).startswith("Instagram's publishing limit is used up (100 of 100 posts in 24 hours)")
    assert not caught.value.transient and graph.paths("POST") == []


def test_an_expired_token_asks_for_a_reconnect(graph: FakeInstagram) -> None:
    graph.expired.add("IGAA-old")
    graph.tokens.add("IGAA-old")

    with pytest.raises(PublishError) as caught:
        _client(graph, token="IGAA-old").publish(_post(), lambda f, m: None)

    assert caught.value.reconnect and not caught.value.transient
    assert "reconnect Instagram in Preferences → Automation" in str(caught.value)
    assert "IGAA-old" not in str(caught.value)


def test_a_429_is_transient_with_retry_after_and_the_next_try_succeeds(graph: FakeInstagram) -> None:
    graph.rate_limited(retry_after="7")
    client = _client(graph)

    with pytest.raises(PublishError) as caught:
        client.publish(_post(), lambda f, m: None)
    published = client.publish(_post(), lambda f, m: None)

    assert caught.value.transient and caught.value.retry_after == 7.0
    assert published.url and len(graph.published) == 1


def test_a_server_error_is_transient_and_a_bad_request_is_not(graph: FakeInstagram) -> None:
    graph.then(500, {"error": {"message": "An unknown error occurred", "code": 1, "type": "OAuthException"}})
    graph.then(400, {"error": {"message": "Invalid parameter", "code": 100, "type": "OAuthException",
                               "error_user_msg": "The caption is too long."}})
    client = _client(graph)

    with pytest.raises(PublishError) as server_error:
        client.publish(_post(), lambda f, m: None)
    with pytest.raises(PublishError) as refused:
        client.publish(_post(), lambda f, m: None)

    assert server_error.value.transient
    assert str(refused.value) == "Instagram refused the post: The caption is too long."
    assert not refused.value.transient and not refused.value.reconnect


def test_without_public_urls_instagram_cannot_fetch_the_media(graph: FakeInstagram) -> None:
    post = Post(kind="image", files=(Path("post.jpg"),), caption="x")

    with pytest.raises(PublishError) as caught:
        _client(graph).publish(post, lambda f, m: None)

    assert str(caught.value) == ("Instagram fetches media from a public URL; set publish.public_url_prefix "
                                 "or connect a team server.")
    assert graph.received == []


def test_a_lost_publish_answer_is_checked_against_the_container(graph: FakeInstagram,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    http = httpx.Client()
    client = _client(graph, http=http)
    real = http.request

    def cut_after_publishing(method: str, url: str, **kwargs: object) -> httpx.Response:
        response = real(method, url, **kwargs)  # type: ignore[arg-type]
        if url.endswith("/media_publish"):
            raise httpx.ReadTimeout("the answer never came")
        return response

    monkeypatch.setattr(http, "request", cut_after_publishing)

    with http:
        published = client.publish(_post(), lambda f, m: None)

    assert len(graph.published) == 1  # posted once; the job must not post again
    assert published.remote_id == "" and published.meta["unconfirmed_id"] is True


def test_captions_past_instagrams_limits_are_refused_before_any_request(graph: FakeInstagram) -> None:
    with pytest.raises(PublishError) as long:
        _client(graph).publish(replace(_post(), caption="a" * 2201), lambda f, m: None)
    with pytest.raises(PublishError) as tagged:
        _client(graph).publish(replace(_post(), caption=" ".join(f"#tag{n}" for n in range(31))),
                               lambda f, m: None)

    assert str(long.value) == "Instagram takes captions of up to 2200 characters; this one has 2201."
    assert str(tagged.value) == "Instagram takes up to 30 hashtags in a caption; this one has 31."
    assert graph.received == []
