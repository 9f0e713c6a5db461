"""Caption styles per family: which style each family wants, detection, and conversion that
never invents content (tags → one sentence of the same tags; sentences → the dataset's tags)."""
from __future__ import annotations

import pytest

from studio.engine.datasets.caption_style import (
    FAMILY_STYLES,
    SENTENCES,
    TAGS,
    dataset_vocabulary,
    detect_style,
    restyle,
    sentence_to_tags,
    style_for_family,
    summary,
    tags_to_sentence,
)
from studio.engine.errors import InvalidInput
from studio.engine.training.config import FAMILIES


def test_every_family_has_a_style() -> None:
    assert set(FAMILY_STYLES) == set(FAMILIES)
    assert [style_for_family(f) for f in ("sd15", "sdxl")] == [TAGS, TAGS]
    assert {style_for_family(f) for f in ("flux1", "sd35", "qwen_image", "wan22_14b", "wan22_5b")} == {SENTENCES}
    with pytest.raises(InvalidInput, match="Unknown model family 'sd3'"):
        style_for_family("sd3")


@pytest.mark.parametrize(("caption", "style"), [
    ("mia_v, red dress, beach, sunset lighting", TAGS),
    ("looking_at_viewer, 1girl, short_hair", TAGS),
    ("mia_v stands on a busy city street at night, wearing a black leather jacket", SENTENCES),
    ("Close-up of mia_v. Soft light", SENTENCES),
    ("photo of mia_v smiling.", SENTENCES),
])
def test_detect_style(caption: str, style: str) -> None:
    assert detect_style(caption) == style


def test_tags_become_one_sentence_of_the_same_tags_trigger_first() -> None:
    text = tags_to_sentence("red dress, mia_v, looking_at_viewer, beach", trigger="mia_v")
    assert text == "mia_v, red dress, looking at viewer and beach."
    assert tags_to_sentence("red dress", trigger="mia_v") == "red dress."  # nothing added
    assert tags_to_sentence("mia_v | smiling", trigger="mia_v", separator="|") == "mia_v and smiling."


def test_sentences_become_only_the_dataset_tags_they_name() -> None:
    vocabulary = ["red dress", "beach", "looking_at_viewer", "city street", "dress"]
    tags = sentence_to_tags("Mia_v in a red dress on the beach, looking at viewer.", trigger="mia_v",
                            vocabulary=vocabulary)
    assert tags == ["mia_v", "red dress", "dress", "beach", "looking_at_viewer"]
    assert sentence_to_tags("A beachside cafe.", trigger="mia_v", vocabulary=vocabulary) == []


def test_restyle_says_what_was_done() -> None:
    joined = restyle("mia_v, red dress, beach", SENTENCES, trigger="mia_v")
    assert (joined.text, joined.changed, joined.note) == ("mia_v, red dress and beach.", True, "joined from tags")
    kept = restyle("mia_v walks on the beach at dawn.", SENTENCES, trigger="mia_v")
    assert (kept.changed, kept.note) == (False, "already sentences")
    picked = restyle("mia_v walks on the beach at dawn.", TAGS, trigger="mia_v", vocabulary=["beach", "dawn"])
    assert (picked.text, picked.note) == ("mia_v, beach, dawn", "tags picked from the sentences")
    none = restyle("mia_v walks on the beach at dawn.", TAGS, trigger="mia_v", vocabulary=[])
    assert (none.text, none.changed) == ("mia_v walks on the beach at dawn.", False)
    assert none.note == "left as sentences: the dataset has no tags to pick"
    only_trigger = restyle("mia_v walks at dawn.", TAGS, trigger="mia_v", vocabulary=["mia_v", "beach"])
    assert (only_trigger.changed, only_trigger.note) == (False, "left as sentences: none of the dataset's "
                                                                "tags is in them")
    assert restyle("  ", TAGS, trigger="mia_v").note == "empty"
    with pytest.raises(InvalidInput, match="'prose'"):
        restyle("x", "prose", trigger="")


def test_vocabulary_comes_from_tag_captions_and_image_tags() -> None:
    vocabulary = dataset_vocabulary(["mia_v, beach, red dress", "mia_v, beach",
                                     "mia_v walks through the old town at night, smiling."],
                                    ["studio light", 3, ""])
    assert vocabulary[:2] == ["mia_v", "beach"]
    assert set(vocabulary) == {"mia_v", "beach", "red dress", "studio light"}


def test_summary_is_one_line() -> None:
    line = summary(["joined from tags", "joined from tags", "already sentences", "empty"], SENTENCES)
    assert line == "captions as sentences: 2 joined from tags, 1 already sentences"
    assert summary(["empty"], TAGS) == "captions as tags: no captions"
