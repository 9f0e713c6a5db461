"""``generate list --min-identity X``: only the pictures that look like her, with their scores."""
from __future__ import annotations

from collections.abc import Iterator

import pytest

from studio.engine.core import Studio
from studio.engine.db.models import Influencer
from tests.cli.conftest import Cli, one_error_line
from tests.engine.comfyui.identity_helpers import by_seed, set_references
from tests.fakes.comfyui_server import FakeComfyUI

MODELS = ("--set", "checkpoint=sd15.safetensors", "--set", "lora_name=mia_v1.safetensors",
          "--set", "steps=3")


@pytest.fixture
def fake(cli: Cli) -> Iterator[FakeComfyUI]:
    with FakeComfyUI() as server:
        assert cli("settings", "set", "comfyui.url", server.base_url).code == 0
        yield server


def test_list_keeps_pictures_above_the_minimum_and_shows_their_scores(
        cli: Cli, fake: FakeComfyUI, studio: Studio) -> None:
    assert cli("influencer", "create", "Mia", "--trigger", "mia").code == 0
    with studio.db.session() as session:
        mia = session.query(Influencer).filter_by(name="Mia").one()
    set_references(studio, mia, "astronaut")
    fake.picture_for = by_seed({42: "astronaut", 43: "luis"})
    made = cli("generate", "image", "--template", "txt2img-sd15-lora", "--influencer", "Mia",
               "--prompt", "mia, portrait", *MODELS, "--set", "seed=42", "--count", "2")
    assert made.code == 0, made.err

    listed = cli("generate", "list", "--influencer", "Mia", "--json").json()
    scores = {row["seed"]: row["identity"] for row in listed}
    assert scores[42] >= 0.5 > scores[43]
    like_her = cli("generate", "list", "--min-identity", "0.5", "--json").json()
    assert [row["seed"] for row in like_her] == [42]
    assert like_her[0]["identity"] == scores[42] and like_her[0]["identity_note"] is None
    ranked = cli("generate", "list", "--sort", "identity", "--json").json()
    assert [row["seed"] for row in ranked] == [42, 43]
    table = cli("generate", "list", "--min-identity", "0.5").out
    assert f"{scores[42]:.2f}" in table and "IDENTITY" in table.splitlines()[0]

    refused = cli("generate", "list", "--min-identity", "2")
    assert refused.code == 2
    assert one_error_line(refused.err) == "error: --min-identity is a score from 0 to 1, not 2."
