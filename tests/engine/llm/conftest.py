"""The fake OpenRouter and a client on it, shared by the LLM tests (a module may override)."""
from __future__ import annotations

from collections.abc import Iterator

import pytest

from studio.engine.llm.client import LLMClient
from studio.engine.llm.prices import clear_price_cache
from tests.fakes.openai_server import FakeOpenAI


@pytest.fixture(autouse=True)
def fresh_prices() -> Iterator[None]:
    """Price lists are kept per server address, and a later test may get the same port."""
    clear_price_cache()
    yield
    clear_price_cache()


@pytest.fixture
def server() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as fake:
        yield fake


@pytest.fixture
def client(server: FakeOpenAI) -> Iterator[LLMClient]:
    with LLMClient(server.base_url, "sk-or-test", timeout=5, sleep=lambda s: None) as c:
        yield c
