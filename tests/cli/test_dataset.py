"""dataset verbs in process: create, list, import (a job run here), captions, export."""
from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from studio.engine.core import Studio
from studio.engine.datasets.service import get_dataset
from tests.cli.conftest import Cli, make_image, one_error_line
from tests.engine.datasets.caption_helpers import add_image, captions_of
from tests.fakes.openai_server import FakeOpenAI

TARGET = ("--influencer", "Mia", "--dataset", "Set A")


@pytest.fixture
def mia(cli: Cli) -> Cli:
    assert cli("influencer", "create", "Mia", "--trigger", "mia_v").code == 0
    created = cli("dataset", "create", "--influencer", "Mia", "Set A", "--class", "woman",
                  "--repeats", "12")
    assert created.code == 0, created.err
    return cli


def _dataset(studio: Studio):  # type: ignore[no-untyped-def]
    return get_dataset(studio, studio.workspace().id, "Set A", "Mia")


def test_create_and_list(mia: Cli) -> None:
    listed = mia("dataset", "list", "--json").json()
    assert [(d["influencer"], d["name"], d["images"], d["folder"]) for d in listed] == [
        ("Mia", "Set A", 0, "12_mia_v woman")]
    assert "12_mia_v woman" in mia("dataset", "list", "--influencer", "Mia").out
    again = mia("dataset", "create", "--influencer", "Mia", "Set A")
    assert again.code == 1 and "already has a dataset" in one_error_line(again.err)
    assert mia("dataset", "list", "--influencer", "Nobody").code == 1


def test_import_prints_the_report(mia: Cli, tmp_path: Path) -> None:
    good = make_image(tmp_path / "in" / "one.png")
    make_image(tmp_path / "in" / "two.jpg", size=(320, 200))
    (tmp_path / "in" / "two.txt").write_text("mia_v, beach", encoding="utf-8")
    (tmp_path / "in" / "broken.jpg").write_bytes(b"not an image at all")
    result = mia("dataset", "import", *TARGET, str(tmp_path / "in"))
    assert result.code == 0, result.err
    assert "imported 2, duplicate 0, refused 1" in result.out
    refused = [line for line in result.out.splitlines() if line.startswith("refused ")]
    assert len(refused) == 1 and "broken.jpg" in refused[0]
    again = mia("dataset", "import", *TARGET, str(good), "--json")
    assert again.code == 0 and [r["status"] for r in again.json()["rows"]] == ["duplicate"]
    assert "mia_v" in mia("dataset", "captions", *TARGET, "tags").out
    analyzed = mia("dataset", "analyze", *TARGET, "--json")
    assert analyzed.code == 0, analyzed.err
    assert (analyzed.json()["type"], analyzed.json()["status"]) == ("analyze-dataset", "completed")


def test_autocaption_runs_the_job_here(mia: Cli, studio: Studio) -> None:
    ds = _dataset(studio)
    add_image(studio, ds, 1, caption="mia_v, done already")
    add_image(studio, ds, 2, caption="")
    with FakeOpenAI() as server:
        server.success("beach, smiling", cost=0.002)
        studio.settings.llm.base_url = server.base_url
        studio.save_settings()
        studio.secrets.set("openrouter", "sk-or-cli")
        result = mia("dataset", "autocaption", *TARGET, "--model", "vision/m", "--json")
        assert len(server.received) == 1  # only the image without a caption
    assert result.code == 0, result.err
    job = result.json()
    assert (job["status"], job["cost_usd"], job["result"]["changed"]) == ("completed", 0.002, 1)
    assert captions_of(studio, ds)["img_002.png"] == "mia_v, beach, smiling"
    assert mia("dataset", "captions", *TARGET, "undo").out.strip() == "undo: Auto-caption 1 image"


def test_captions_check_tags_undo_redo(mia: Cli, studio: Studio) -> None:
    ds = _dataset(studio)
    add_image(studio, ds, 1, caption="mia_v, beach")
    add_image(studio, ds, 2, caption="beach, red dress")
    check = mia("dataset", "captions", *TARGET, "check", "--json")
    assert check.code == 0 and [i["kind"] for i in check.json()] == ["missing-trigger"]
    assert "trigger word 'mia_v' is missing" in mia("dataset", "captions", *TARGET).out
    tags = mia("dataset", "captions", *TARGET, "tags", "--json").json()
    assert tags[0] == {"tag": "beach", "images": 2}
    from studio.engine.datasets import captions
    captions.apply(studio, ds, captions.InsertTrigger("mia_v"))
    assert mia("dataset", "captions", *TARGET, "undo").out.strip() == "undo: Insert trigger mia_v"
    assert mia("dataset", "captions", *TARGET, "undo").out.strip() == "nothing to undo"
    assert mia("dataset", "captions", *TARGET, "redo", "--json").json() == {"redo": "Insert trigger mia_v"}
    assert mia("dataset", "captions", *TARGET, "check", "--json").json() == []


def test_export(mia: Cli, studio: Studio, tmp_path: Path) -> None:
    ds = _dataset(studio)
    add_image(studio, ds, 1, caption="mia_v, beach")
    add_image(studio, ds, 2, caption="mia_v, hidden", excluded=True)
    out = tmp_path / "train"
    result = mia("dataset", "export", *TARGET, "--format", "kohya", "--out", str(out))
    assert result.code == 0, result.err
    assert "exported 1 images (1 captions)" in result.out and "1 excluded" in result.out
    config = tomllib.loads((out / "dataset_config.toml").read_text(encoding="utf-8"))
    assert config["datasets"][0]["subsets"][0]["image_dir"] == str(out / "img" / "12_mia_v woman")
    both = mia("dataset", "export", *TARGET, "--out", str(out), "--include-excluded", "--json")
    assert both.code == 0 and both.json()["images"] == 2
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "x").write_text("x")
    refused = mia("dataset", "export", *TARGET, "--out", str(busy))
    assert refused.code == 2 and "not a previous export" in one_error_line(refused.err)


def test_unknown_dataset_is_one_line(mia: Cli) -> None:
    result = mia("dataset", "captions", "--influencer", "Mia", "--dataset", "Nope", "tags")
    assert result.code == 1 and "no dataset named 'Nope'" in one_error_line(result.err)


def test_edit_changes_folder_options_and_the_tag_separator(mia: Cli, studio: Studio) -> None:
    from studio.engine.datasets.captions import tag_frequency
    changed = mia("dataset", "edit", *TARGET, "--repeats", "5", "--class", "person", "--separator", ";",
                  "--json")
    assert changed.code == 0, changed.err
    assert changed.json()["folder"] == "5_mia_v person" and changed.json()["tag_separator"] == ";"
    add_image(studio, _dataset(studio), 1, caption="mia_v; red coat; snow, evening")
    assert dict(tag_frequency(studio, _dataset(studio))) == {"mia_v": 1, "red coat": 1, "snow, evening": 1}
    bad = mia("dataset", "edit", *TARGET, "--separator", "x")
    assert bad.code == 2 and "cannot separate tags" in one_error_line(bad.err)
    assert mia("dataset", "edit", *TARGET).code == 2  # nothing to change


def test_images_lists_what_the_page_filters_would_show(mia: Cli, studio: Studio) -> None:
    ds = _dataset(studio)
    add_image(studio, ds, 1, caption="mia_v, beach")
    add_image(studio, ds, 2, caption="", excluded=True)
    add_image(studio, ds, 3, caption="mia_v, red dress")
    listed = mia("dataset", "images", *TARGET, "--json").json()
    assert [r["name"] for r in listed] == ["img_001.png", "img_002.png", "img_003.png"]
    assert [r["name"] for r in mia("dataset", "images", *TARGET, "--tag", "BEACH", "--json").json()] == [
        "img_001.png"]
    hidden = mia("dataset", "images", *TARGET, "--excluded", "hide", "--caption", "with",
                 "--sort", "name", "--json").json()
    assert [r["name"] for r in hidden] == ["img_001.png", "img_003.png"]
    assert "no images match" in mia("dataset", "images", *TARGET, "--text", "nothing-like-it").out
    assert mia("dataset", "images", *TARGET, "--faces", "lots").code == 2
