"""ComfyUI fixtures: the fake ComfyUI as the studio's, and an influencer to generate for.

test_client.py defines its own ``fake`` (a bare server, no studio), which takes precedence there.
"""
from __future__ import annotations

from collections.abc import Iterator

import pytest

from studio.engine.core import Studio
from studio.engine.db.models import Influencer
from studio.engine.influencers import Persona, create_influencer
from tests.fakes.comfyui_server import FakeComfyUI


@pytest.fixture
def fake(studio: Studio) -> Iterator[FakeComfyUI]:
    with FakeComfyUI() as server:
        studio.settings.comfyui.url = server.base_url
        yield server


@pytest.fixture
def mia(studio: Studio) -> Influencer:
    return create_influencer(studio, studio.workspace().id, Persona(name="Mia", trigger_word="mia"))
