"""The kohya export in a caption style: the .txt files on disk as tags or as sentences, the
dataset's own captions untouched, and the manifest saying what was done."""
from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

from studio.engine.core import Studio
from studio.engine.datasets import export
from studio.engine.datasets.export import export_kohya
from studio.engine.db.models import Dataset
from studio.engine.errors import InvalidInput
from tests.engine.datasets.caption_helpers import add_image, captions_of, make_dataset

PROSE = "mia_v walks along the beach at sunset in a red dress, smiling."


@pytest.fixture(autouse=True)
def no_crops(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(export, "_crop_renderer", lambda: None)


@pytest.fixture
def mixed(studio: Studio) -> Dataset:
    ds = make_dataset(studio)
    add_image(studio, ds, 1, caption="red dress, mia_v, looking_at_viewer, beach")
    add_image(studio, ds, 2, caption=PROSE)
    add_image(studio, ds, 3, caption="mia_v, city street, night", tags=["sunset"])
    return ds


def _captions(result: export.ExportResult) -> list[str]:
    return [p.read_text(encoding="utf-8") for p in sorted(result.image_dir.glob("*.txt"))]


def test_sentences_join_tags_and_keep_prose(studio: Studio, mixed: Dataset, tmp_path: Path) -> None:
    before = captions_of(studio, mixed)
    result = export_kohya(studio, mixed, tmp_path / "flux", caption_style="sentences")
    assert _captions(result) == ["mia_v, red dress, looking at viewer and beach.", PROSE,
                                 "mia_v, city street and night."]
    assert result.caption_report == "captions as sentences: 2 joined from tags, 1 already sentences"
    manifest = json.loads(result.manifest_file.read_text(encoding="utf-8"))
    assert (manifest["caption_style"], manifest["caption_report"]) == ("sentences", result.caption_report)
    assert captions_of(studio, mixed) == before  # the export writes files, never the dataset
    general = tomllib.loads(result.config_file.read_text(encoding="utf-8"))["general"]
    assert general == {"caption_extension": ".txt", "shuffle_caption": False}  # prose stays in order


def test_tags_picks_the_dataset_tags_out_of_sentences(studio: Studio, mixed: Dataset, tmp_path: Path) -> None:
    result = export_kohya(studio, mixed, tmp_path / "sdxl", caption_style="tags")
    assert _captions(result) == ["red dress, mia_v, looking_at_viewer, beach",
                                 "mia_v, beach, sunset, red dress", "mia_v, city street, night"]
    assert result.caption_report == "captions as tags: 2 already tags, 1 tags picked from the sentences"


def test_tags_leave_sentences_when_the_dataset_has_no_tags(studio: Studio, tmp_path: Path) -> None:
    ds = make_dataset(studio)
    add_image(studio, ds, 1, caption=PROSE)
    result = export_kohya(studio, ds, tmp_path / "o", caption_style="tags")
    assert _captions(result) == [PROSE]
    assert result.caption_report == "captions as tags: 1 left as sentences: the dataset has no tags to pick"


def test_no_style_writes_captions_as_they_are(studio: Studio, mixed: Dataset, tmp_path: Path) -> None:
    result = export_kohya(studio, mixed, tmp_path / "o")
    assert _captions(result)[0] == "red dress, mia_v, looking_at_viewer, beach"
    assert (result.caption_style, result.caption_report) == (None, "captions as they are")


def test_unknown_style_is_refused_before_writing(studio: Studio, mixed: Dataset, tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="Unknown caption style 'prose'"):
        export_kohya(studio, mixed, tmp_path / "o", caption_style="prose")
    assert not (tmp_path / "o").exists()
