"""Tag splitting and every batch operation as a pure text transformation."""
from __future__ import annotations

import pytest

from studio.engine.datasets.tags import (
    AddTags,
    DedupeTags,
    InsertTrigger,
    MoveToFront,
    RemoveTags,
    RenameTag,
    ReplaceText,
    SortTags,
    join_tags,
    split_tags,
    transform,
    trigger_present,
)
from studio.engine.errors import InvalidInput


def test_split_and_join() -> None:
    assert split_tags(" mia_v ,red  dress,, smiling ") == ["mia_v", "red dress", "smiling"]
    assert join_tags(["mia_v", "red dress"]) == "mia_v, red dress"
    assert split_tags("a | b|c", "|") == ["a", "b", "c"]
    assert join_tags(["a", "b"], "|") == "a| b"
    assert split_tags("a  b\tc", " ") == ["a", "b", "c"] and join_tags(["a", "b"], " ") == "a b"
    assert split_tags("") == []


@pytest.mark.parametrize(("op", "before", "after"), [
    (AddTags(["smiling", "mia_v"]), "mia_v, red dress", "mia_v, red dress, smiling"),
    (AddTags(("outdoors",), at_front=True), "mia_v, red", "outdoors, mia_v, red"),
    (RemoveTags(["red dress", "x"]), "mia_v, red dress, beach", "mia_v, beach"),
    (RenameTag("red dress", "crimson dress"), "a, red dress, b", "a, crimson dress, b"),
    (RenameTag("red", "blue"), "red, blue, x", "blue, x"),  # no doubled tag after a rename
    (MoveToFront(["beach", "missing"]), "a, b, beach", "beach, a, b"),
    (SortTags(), "mia_v, zebra, Apple, beach", "mia_v, Apple, beach, zebra"),  # trigger stays first
    (DedupeTags(), "a, b, a, c, b", "a, b, c"),
    (InsertTrigger("mia_v"), "red dress, beach", "mia_v, red dress, beach"),
    (ReplaceText("dress", "gown"), "red dress, dress code", "red gown, gown code"),
    (ReplaceText(r"\b(\d+) year old\b", r"\1yo", regex=True), "a 25 year old woman", "a 25yo woman"),
])
def test_operations(op: object, before: str, after: str) -> None:
    assert transform(op, before, ",", trigger="mia_v") == after  # type: ignore[arg-type]


def test_untouched_caption_keeps_its_formatting() -> None:
    # Re-joining would turn "a,b" into "a, b"; an op that changes no tag must not do that.
    assert transform(RemoveTags(["z"]), "a,b", ",") == "a,b"
    assert transform(SortTags(), "a,b,c", ",") == "a,b,c"


def test_trigger_inside_a_sentence_counts_as_present() -> None:
    assert trigger_present("a photo of mia_v on a beach", "mia_v")
    assert not trigger_present("a photo of mia_vv", "mia_v")
    assert transform(InsertTrigger("mia_v"), "photo of mia_v smiling", ",") == "photo of mia_v smiling"


def test_bad_regex_and_empty_trigger_are_refused() -> None:
    with pytest.raises(InvalidInput, match="not a valid regular expression"):
        ReplaceText("(unclosed", "x", regex=True)
    with pytest.raises(InvalidInput, match="no trigger word"):
        InsertTrigger("  ")
