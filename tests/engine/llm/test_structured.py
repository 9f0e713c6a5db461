"""JSON answers validated against a schema, with one retry that shows the model its mistake."""
from __future__ import annotations

import json
from typing import Any

import pytest

from studio.engine.jobs.errors import JobFailed
from studio.engine.llm import LLMClient
from studio.engine.llm.structured import LLMBadOutput, complete_json
from tests.fakes.openai_server import FakeOpenAI

SCHEMA: dict[str, Any] = {
    "type": "object", "additionalProperties": False, "required": ["posts"],
    "properties": {"posts": {"type": "array", "minItems": 1, "items": {
        "type": "object", "additionalProperties": False, "required": ["topic", "day"],
        "properties": {"topic": {"type": "string"}, "day": {"type": "integer", "minimum": 1}}}}},
}
ASK = [{"role": "user", "content": "two posts"}]
GOOD = {"posts": [{"topic": "coffee", "day": 1}, {"topic": "gym", "day": 2}]}


def test_valid_answer_in_one_call_with_strict_schema_format(server: FakeOpenAI,
                                                            client: LLMClient) -> None:
    server.success_json(GOOD, cost=0.002)
    result = complete_json(client.send, ASK, SCHEMA, name="plan", model="openai/gpt-4o-mini",
                           models=["anthropic/claude-3.5-haiku"], temperature=0.7)
    assert result.value == GOOD and not result.retried and result.cost_usd == 0.002
    body = server.received[0].body
    assert body["response_format"] == {"type": "json_schema", "json_schema": {
        "name": "plan", "strict": True, "schema": SCHEMA}}
    assert body["models"] == ["openai/gpt-4o-mini", "anthropic/claude-3.5-haiku"]
    assert body["messages"] == ASK and body["temperature"] == 0.7


def test_broken_json_is_sent_back_once_and_the_second_answer_counts(server: FakeOpenAI,
                                                                   client: LLMClient) -> None:
    server.invalid_json('{"posts": [{"topic": "coffee", ', cost=0.001).success_json(GOOD, cost=0.003)
    forgotten: list[dict[str, Any]] = []
    result = complete_json(client.send, ASK, SCHEMA, name="plan", model="m",
                           on_invalid=forgotten.append)
    assert result.value == GOOD and result.retried
    assert result.cost_usd == pytest.approx(0.004)  # the bad answer was paid for too
    retry = server.received[1].body["messages"]
    assert retry[:1] == ASK
    assert retry[1] == {"role": "assistant", "content": '{"posts": [{"topic": "coffee", '}
    assert retry[2]["role"] == "user" and "not valid JSON" in retry[2]["content"]
    assert forgotten == []  # a good second answer keeps both cached: a re-run replays them


def test_schema_violations_are_named_with_their_place(server: FakeOpenAI, client: LLMClient) -> None:
    wrong = {"posts": [{"topic": "coffee", "day": 0}, {"topic": 5, "day": 2}]}
    server.success_json(wrong).success_json(GOOD)
    complete_json(client.send, ASK, SCHEMA, name="plan", model="m")
    feedback = server.received[1].body["messages"][2]["content"]
    assert "at posts[0].day: 0 is less than the minimum of 1" in feedback
    assert "at posts[1].topic: 5 is not of type 'string'" in feedback


def test_a_code_fence_around_the_json_is_accepted(server: FakeOpenAI, client: LLMClient) -> None:
    server.success("```json\n" + json.dumps(GOOD) + "\n```")
    assert complete_json(client.send, ASK, SCHEMA, name="plan", model="m").value == GOOD
    assert len(server.received) == 1


def test_extra_checks_feed_the_retry(server: FakeOpenAI, client: LLMClient) -> None:
    def distinct_days(value: Any) -> list[str]:
        days = [p["day"] for p in value["posts"]]
        return [] if len(set(days)) == len(days) else ["two posts share a day"]

    same_day = {"posts": [{"topic": "a", "day": 1}, {"topic": "b", "day": 1}]}
    server.success_json(same_day).success_json(GOOD)
    result = complete_json(client.send, ASK, SCHEMA, name="plan", model="m", check=distinct_days)
    assert result.value == GOOD
    assert "two posts share a day" in server.received[1].body["messages"][2]["content"]


def test_two_bad_answers_fail_the_job_in_one_line(server: FakeOpenAI, client: LLMClient) -> None:
    server.invalid_json().success_json({"posts": []}, model="meta/llama-3")
    forgotten: list[dict[str, Any]] = []
    with pytest.raises(JobFailed) as info:
        complete_json(client.send, ASK, SCHEMA, name="plan", model="m", on_invalid=forgotten.append)
    assert isinstance(info.value, LLMBadOutput)
    text = str(info.value)
    assert "meta/llama-3" in text and "at posts: [] should be non-empty" in text and "\n" not in text
    assert len(server.received) == 2 and forgotten == [r.body for r in server.received]


def test_cut_off_answers_say_so(server: FakeOpenAI, client: LLMClient) -> None:
    server.invalid_json('{"posts": [', finish_reason="length")
    server.invalid_json('{"posts": [{', finish_reason="length")
    with pytest.raises(LLMBadOutput, match=r"not valid JSON \(the answer was cut off at max_tokens\)"):
        complete_json(client.send, ASK, SCHEMA, name="plan", model="m", max_tokens=5)
    assert server.received[0].body["max_tokens"] == 5
