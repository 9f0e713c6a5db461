"""`dataset export --caption-style` and `dataset autocaption --style`: captions per family."""
from __future__ import annotations

from pathlib import Path

import pytest

from studio.engine.core import Studio
from studio.engine.datasets.autocaption import SENTENCE_PROMPT
from studio.engine.datasets.service import get_dataset
from tests.cli.conftest import Cli
from tests.engine.datasets.caption_helpers import add_image, captions_of
from tests.fakes.openai_server import FakeOpenAI

TARGET = ("--influencer", "Mia", "--dataset", "Set A")


@pytest.fixture
def mia(cli: Cli) -> Cli:
    assert cli("influencer", "create", "Mia", "--trigger", "mia_v").code == 0
    assert cli("dataset", "create", "--influencer", "Mia", "Set A", "--class", "woman").code == 0
    return cli


def test_export_in_sentences(mia: Cli, studio: Studio, tmp_path: Path) -> None:
    ds = get_dataset(studio, studio.workspace().id, "Set A", "Mia")
    add_image(studio, ds, 1, caption="beach, mia_v, red_dress")
    result = mia("dataset", "export", *TARGET, "--out", str(tmp_path / "o"), "--caption-style", "sentences")
    assert result.code == 0, result.err
    assert "captions as sentences: 1 joined from tags" in result.out
    (txt,) = (tmp_path / "o" / "img").glob("*/*.txt")
    assert txt.read_text(encoding="utf-8") == "mia_v, beach and red dress."
    as_json = mia("dataset", "export", *TARGET, "--out", str(tmp_path / "o"), "--caption-style", "tags", "--json")
    assert as_json.json()["caption_style"] == "tags"
    assert mia("dataset", "export", *TARGET, "--out", str(tmp_path / "x"), "--caption-style", "prose").code == 2


def test_autocaption_in_sentences(mia: Cli, studio: Studio) -> None:
    ds = get_dataset(studio, studio.workspace().id, "Set A", "Mia")
    add_image(studio, ds, 1, caption="")
    with FakeOpenAI() as server:
        server.success("mia_v sits in a cafe, reading.", cost=0.001)
        studio.settings.llm.base_url = server.base_url
        studio.save_settings()
        studio.secrets.set("openrouter", "sk-or-cli")
        result = mia("dataset", "autocaption", *TARGET, "--model", "vision/m", "--style", "sentences", "--json")
        assert server.received[0].text_parts()[0].startswith(SENTENCE_PROMPT[:60].replace("{name}", "Mia"))
    assert result.code == 0, result.err
    assert captions_of(studio, ds)["img_001.png"] == "mia_v sits in a cafe, reading."


def test_captions_check_for_a_family(mia: Cli, studio: Studio) -> None:
    ds = get_dataset(studio, studio.workspace().id, "Set A", "Mia")
    add_image(studio, ds, 1, caption=" ".join(["mia_v walks along an alley in Lisbon at dawn, laughing."] * 8))
    clip = mia("dataset", "captions", *TARGET, "check", "--json").json()
    assert [i["kind"] for i in clip] == ["too-long"]
    assert mia("dataset", "captions", *TARGET, "check", "--family", "flux1", "--json").json() == []
