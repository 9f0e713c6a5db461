"""The fake OpenRouter and a client on it, shared by the LLM tests (a module may override)."""
from __future__ import annotations

from collections.abc import Iterator

import pytest

from studio.engine.llm.client import LLMClient
from tests.fakes.openai_server import FakeOpenAI


@pytest.fixture
def server() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as fake:
        yield fake


@pytest.fixture
def client(server: FakeOpenAI) -> Iterator[LLMClient]:
    with LLMClient(server.base_url, "sk-or-test", timeout=5, sleep=lambda s: None) as c:
        yield c
