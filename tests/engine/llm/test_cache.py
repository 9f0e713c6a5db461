"""The local answer cache: equal requests hit, any difference misses, hits are free."""
from __future__ import annotations

import sqlite3
from pathlib import Path

from studio.engine.llm.cache import ResponseCache, cache_key
from studio.engine.llm.client import ChatResult, request_body

BASE = "https://openrouter.ai/api/v1"
ASK = [{"role": "user", "content": "plan a week"}]
PAID = ChatResult(content='{"items": []}', model="openai/gpt-4o-mini", prompt_tokens=800,
                  completion_tokens=120, cost_usd=0.0031, generation_id="gen-1", finish_reason="stop")


def test_a_hit_returns_the_answer_for_free(tmp_path: Path) -> None:
    cache = ResponseCache.in_folder(tmp_path / "cache")
    key = cache_key(BASE, request_body(ASK, model="openai/gpt-4o-mini", temperature=0.7))
    assert cache.get(key) is None
    cache.put(key, PAID)
    hit = ResponseCache.in_folder(tmp_path / "cache").get(key)  # another process, same file
    assert hit is not None and hit.cached and hit.cost_usd == 0.0
    assert (hit.content, hit.model, hit.prompt_tokens, hit.completion_tokens, hit.generation_id) == (
        PAID.content, PAID.model, 800, 120, "gen-1")
    assert len(cache) == 1


def test_any_difference_in_the_request_is_a_miss() -> None:
    base = cache_key(BASE, request_body(ASK, model="m", temperature=0.7, max_tokens=100))
    assert base == cache_key(BASE + "/", request_body(ASK, model="m", temperature=0.7, max_tokens=100))
    others = {
        cache_key(BASE, request_body(ASK, model="m2", temperature=0.7, max_tokens=100)),
        cache_key(BASE, request_body(ASK, model="m", temperature=0.8, max_tokens=100)),
        cache_key(BASE, request_body(ASK, model="m", temperature=0.7, max_tokens=101)),
        cache_key(BASE, request_body(ASK, model="m", models=["f"], temperature=0.7, max_tokens=100)),
        cache_key(BASE, request_body([{"role": "user", "content": "plan a month"}], model="m",
                                     temperature=0.7, max_tokens=100)),
        cache_key("http://localhost:1234/v1", request_body(ASK, model="m", temperature=0.7,
                                                           max_tokens=100)),
    }
    assert base not in others and len(others) == 6


def test_discard_and_a_damaged_row_are_misses(tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path / "c.sqlite3")
    cache.put("k", PAID)
    cache.discard("k")
    assert cache.get("k") is None
    with sqlite3.connect(tmp_path / "c.sqlite3") as db:
        db.execute("INSERT INTO responses VALUES ('bad', 'm', '{\"unknown\": 1}', 0)")
    assert cache.get("bad") is None and len(cache) == 0
