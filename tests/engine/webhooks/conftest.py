"""Webhook tests: the test's workspace and a local receiver answering 200."""
from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from studio.engine.core import Studio
from tests.fakes.webhook_receiver import WebhookReceiver


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as server:
        yield server


@pytest.fixture
def workspace_id(studio: Studio) -> uuid.UUID:
    return studio.workspace().id
