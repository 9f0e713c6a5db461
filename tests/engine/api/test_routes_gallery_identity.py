"""GET /generations/gallery by likeness: each picture's identity score, a minimum and an order,
as the CLI's `generate list --min-identity` and the app's gallery have them."""
from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from studio.engine.core import Studio
from studio.engine.db.models import Influencer
from studio.engine.influencers import Persona, create_influencer, get_influencer
from tests.conftest import run_next_task
from tests.engine.api.conftest import Tokens
from tests.engine.comfyui.identity_helpers import by_seed, set_references
from tests.fakes.comfyui_server import FakeComfyUI

MODELS = {"checkpoint": "sd15.safetensors", "steps": 3}


@pytest.fixture
def comfy(studio: Studio) -> Iterator[FakeComfyUI]:
    with FakeComfyUI() as server:
        studio.settings.comfyui.url = server.base_url
        yield server


def test_the_gallery_filters_and_orders_by_her_identity_score(
        client: TestClient, studio: Studio, comfy: FakeComfyUI, tokens: Tokens) -> None:
    create_influencer(studio, tokens.workspace_id, Persona(name="Mia", trigger_word="mia"))
    mia: Influencer = get_influencer(studio, tokens.workspace_id, "Mia")
    set_references(studio, mia, "astronaut")
    comfy.picture_for = by_seed({1: "hopper", 2: "astronaut"})
    for seed in (1, 2):
        answer = client.post("/generations", json={"template": "txt2img-sd15-lora", "prompt": "mia",
                                                   "influencer_id": str(mia.id), "params": {**MODELS, "seed": seed}})
        assert answer.status_code == 202, answer.text
        run_next_task(studio, "generation")

    newest = client.get("/generations/gallery").json()
    assert [i["seed"] for i in newest] == [2, 1]
    scores = {i["seed"]: i["identity"] for i in newest}
    assert scores[2] >= 0.5 > scores[1]
    like_her = client.get("/generations/gallery", params={"min_identity": 0.5}).json()
    assert [i["seed"] for i in like_her] == [2]
    ranked = client.get("/generations/gallery", params={"sort": "identity", "min_identity": 0}).json()
    assert [i["seed"] for i in ranked] == [2, 1]
    assert client.get("/generations/gallery", params={"min_identity": 1.5}).status_code == 422
    assert client.get("/generations/gallery", params={"sort": "rating"}).status_code == 422
