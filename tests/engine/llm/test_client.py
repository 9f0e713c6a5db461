"""The OpenAI-compatible client against a real HTTP server speaking OpenRouter's format."""
from __future__ import annotations

import base64
import io
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from studio.engine.errors import InvalidInput
from studio.engine.jobs.errors import JobFailed, TransientError
from studio.engine.llm import LLMClient, LLMRefused, LLMUnavailable, image_part, user_message
from studio.engine.llm.client import CALL_DEADLINE_S, CONNECT_S, READ_S
from tests.fakes.openai_server import FakeOpenAI

KEY = "sk-or-v1-test-secret"
HELLO = [{"role": "user", "content": "hello"}]


@pytest.fixture
def slept() -> list[float]:
    return []


@pytest.fixture
def client(server: FakeOpenAI, slept: list[float]) -> Iterator[LLMClient]:
    with LLMClient(server.base_url, KEY, timeout=5, backoff_s=0.5, sleep=slept.append) as c:
        yield c


def test_success_reads_content_usage_and_cost(server: FakeOpenAI, client: LLMClient) -> None:
    server.success("mia_v, red dress", cost=0.00123, prompt_tokens=900, completion_tokens=7)
    result = client.chat(HELLO, model="openai/gpt-4o-mini", temperature=0.2, max_tokens=50)
    assert (result.content, result.model, result.prompt_tokens, result.completion_tokens,
            result.cost_usd, result.finish_reason) == (
        "mia_v, red dress", "openai/gpt-4o-mini", 900, 7, 0.00123, "stop")
    assert result.generation_id.startswith("gen-")
    sent = server.received[0]
    assert sent.path == "/api/v1/chat/completions"
    assert sent.headers["Authorization"] == f"Bearer {KEY}"
    assert sent.body == {"model": "openai/gpt-4o-mini", "messages": HELLO, "temperature": 0.2,
                         "max_tokens": 50}
    assert KEY not in repr(client)


def test_fallback_models_are_sent_in_order(server: FakeOpenAI, client: LLMClient) -> None:
    server.success("ok", model="meta/llama-vision")  # the fallback served and is billed
    result = client.chat(HELLO, model="openai/gpt-4o", models=["google/gemini", "meta/llama-vision"],
                         response_format={"type": "json_object"})
    body = server.received[0].body
    assert body["model"] == "openai/gpt-4o"
    assert body["models"] == ["openai/gpt-4o", "google/gemini", "meta/llama-vision"]
    assert body["response_format"] == {"type": "json_object"}
    assert result.model == "meta/llama-vision"


def test_no_key_sends_no_authorization(server: FakeOpenAI) -> None:
    with LLMClient(server.base_url, None) as local:
        local.chat(HELLO, model="llava")
    assert "Authorization" not in server.received[0].headers


def test_no_model_is_a_usage_error(client: LLMClient) -> None:
    with pytest.raises(InvalidInput, match="No model"):
        client.chat(HELLO)


def test_rate_limit_honours_retry_after(server: FakeOpenAI, client: LLMClient,
                                        slept: list[float]) -> None:
    server.rate_limited(retry_after="3").success("after the wait")
    assert client.chat(HELLO, model="m").content == "after the wait"
    assert slept == [3.0] and len(server.received) == 2


def test_long_retry_after_goes_back_to_the_queue(server: FakeOpenAI, client: LLMClient,
                                                 slept: list[float]) -> None:
    server.rate_limited(retry_after="3600")
    with pytest.raises(TransientError, match="rate limiting") as info:
        client.chat(HELLO, model="m")
    assert isinstance(info.value, LLMUnavailable) and info.value.retry_after == 3600.0
    assert slept == [] and len(server.received) == 1


def test_server_errors_retry_with_backoff_then_give_up(server: FakeOpenAI, client: LLMClient,
                                                       slept: list[float]) -> None:
    server.server_error(500).server_error(502, "Bad gateway").server_error(503, "Overloaded")
    with pytest.raises(TransientError, match=r"HTTP 503\): Overloaded"):
        client.chat(HELLO, model="m")
    assert slept == [0.5, 1.0] and len(server.received) == 3


def test_server_error_then_success(server: FakeOpenAI, client: LLMClient) -> None:
    server.server_error(502).success("fine")
    assert client.chat(HELLO, model="m").content == "fine"


@pytest.mark.parametrize(("status", "message", "hint"), [
    (400, "model is required to be a vision model", ""),
    (401, "No auth credentials found", "secret set openrouter"),
    (402, "Insufficient credits. Add more using https://openrouter.ai/credits", "out of credits"),
    (403, "Input flagged by moderation", "moderation"),
])
def test_refusals_fail_at_once_with_the_server_message(server: FakeOpenAI, client: LLMClient,
                                                       status: int, message: str, hint: str) -> None:
    server.error(status, message, {"reasons": ["test"]})
    with pytest.raises(JobFailed) as info:
        client.chat(HELLO, model="m")
    text = str(info.value)
    assert isinstance(info.value, LLMRefused) and info.value.status == status
    assert f"HTTP {status}" in text and message.rstrip(".") in text and hint in text
    assert "\n" not in text and KEY not in text
    assert len(server.received) == 1  # no retry


def test_error_inside_a_200(server: FakeOpenAI, client: LLMClient, slept: list[float]) -> None:
    server.error_in_200("Provider disconnected", code=502).success("second try")
    assert client.chat(HELLO, model="m").content == "second try"
    server.error_in_200("Context too long", code=400)
    with pytest.raises(JobFailed, match="Context too long"):
        client.chat(HELLO, model="m")


def test_malformed_json(server: FakeOpenAI, client: LLMClient) -> None:
    server.malformed("<html>login page</html>")
    with pytest.raises(JobFailed, match="not a chat completion.*<html>login page"):
        client.chat(HELLO, model="m")
    server.malformed("upstream exploded", status=502).malformed("again", status=502)
    server.malformed("still", status=502)
    with pytest.raises(TransientError, match="not JSON"):
        client.chat(HELLO, model="m")


def test_timeout_and_refused_connection_are_transient(server: FakeOpenAI) -> None:
    server.slow(1.0)
    with (LLMClient(server.base_url, KEY, timeout=0.2, retries=0) as impatient,
          pytest.raises(TransientError, match="did not answer in time")):
        impatient.chat(HELLO, model="m")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again when the block ends: nothing listens
    with (LLMClient(f"http://127.0.0.1:{port}/v1", KEY, retries=0) as nowhere,
          pytest.raises(TransientError, match="cannot be reached")):
        nowhere.chat(HELLO, model="m")


def test_image_parts_are_small_upright_jpeg(tmp_path: Path, server: FakeOpenAI,
                                            client: LLMClient) -> None:
    big = tmp_path / "big.png"
    Image.new("RGBA", (2000, 1000), (10, 200, 30, 255)).save(big)
    part = image_part(big)
    url = part["image_url"]["url"]
    assert part["type"] == "image_url" and url.startswith("data:image/jpeg;base64,")
    with Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))) as img:
        assert (img.format, img.size) == ("JPEG", (1024, 512))
    client.chat([user_message("describe", [big])], model="vision")
    sent = server.received[0]
    assert sent.text_parts() == ["describe"] and sent.image_urls() == [url]


def test_a_server_that_accepts_and_never_answers_fails_once_within_the_read_timeout(
        server: FakeOpenAI) -> None:
    server.silent()
    started = time.monotonic()
    with (LLMClient(server.base_url, KEY, timeout=0.5, deadline_s=30) as client,
          pytest.raises(LLMUnavailable, match="did not answer in time") as info):
        client.chat(HELLO, model="m")
    assert time.monotonic() - started < 5
    assert info.value.maybe_billed and len(server.received) == 1  # not sent again: it may be billed


def test_default_timeouts_add_up_to_minutes() -> None:
    with LLMClient("http://127.0.0.1:9/v1", None) as client:
        assert client.timeout == READ_S and CONNECT_S + READ_S <= 200  # silent server: ~3 min
        assert client.max_call_s == CALL_DEADLINE_S + READ_S <= 7 * 60  # any send, retries included


@pytest.mark.parametrize(("sent", "problem"), [
    (float("nan"), "a cost of nan"), (float("inf"), "a cost of inf"),
    (-20.0, "a negative cost (-20.0)"), ("abc", "a cost of 'abc', which is not a number"),
    (True, "a cost of True, which is not a number"), (None, "")])
def test_a_cost_that_is_not_a_number_of_0_or_more_is_refused(
        server: FakeOpenAI, client: LLMClient, sent: object, problem: str) -> None:
    server.success("ok", cost=sent)
    result = client.chat(HELLO, model="m")
    assert (result.content, result.cost_usd, result.cost_reported, result.cost_problem) == (
        "ok", 0.0, False, problem)
