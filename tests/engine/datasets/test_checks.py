"""Caption checks and CLIP token counts (exact with the real vocabulary, estimated without)."""
from __future__ import annotations

import pytest

from studio.engine.core import Studio
from studio.engine.datasets import checks
from studio.engine.datasets.checks import caption_checks, token_count
from tests.engine.datasets.caption_helpers import add_image, make_dataset


@pytest.mark.parametrize(("text", "count"), [
    ("a photo of a cat", 5),  # CLIP: a / photo / of / a / cat
    ("A Photo of a CAT!", 6),  # lower-cased like CLIP; "!" is a token
    ("a diagram", 2),
    ("", 0),
])
def test_exact_clip_counts(text: str, count: int) -> None:
    assert token_count(text) == checks.TokenCount(count, True)


def test_estimate_without_the_tokenizer(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(checks, "_tokenizer", lambda: None)
    counted = token_count("a photo of a cat, 25 years")
    assert counted.exact is False
    assert counted.count == 9  # 5 words, ",", "2", "5", "years"


def test_caption_checks(studio: Studio) -> None:
    ds = make_dataset(studio)
    empty = add_image(studio, ds, 1, caption="  ")
    no_trigger = add_image(studio, ds, 2, caption="red dress, beach")
    dup_a = add_image(studio, ds, 3, caption="mia_v, studio")
    dup_b = add_image(studio, ds, 4, caption="mia_v,   Studio")
    long_76 = add_image(studio, ds, 5, caption="mia_v" + ", cat" * 37)  # 3 + 74 = 77 tokens
    long_300 = add_image(studio, ds, 6, caption="mia_v" + ", cat" * 150)
    add_image(studio, ds, 7, caption="", excluded=True)  # not trained on: not checked
    assert token_count(long_76.caption).count == 77
    issues = caption_checks(studio, ds)
    found = {(i.kind, i.image_ids) for i in issues}
    assert found == {("empty", (empty.id,)), ("missing-trigger", (no_trigger.id,)),
                     ("duplicate", (dup_a.id, dup_b.id)), ("too-long", (long_76.id,)),
                     ("too-long", (long_300.id,))}
    by_image = {i.image_ids[0]: i for i in issues if i.kind == "too-long"}
    assert by_image[long_76.id].severity == "warning" and "150" in by_image[long_76.id].message
    assert by_image[long_300.id].severity == "error" and by_image[long_300.id].tokens == 303
    summary = checks.IssueSummary.of(issues, shown=2)  # what the Datasets page's summary shows
    assert summary.count == 5 and dict(summary.kinds) == {"too-long": 2, "empty": 1, "missing-trigger": 1,
                                                          "duplicate": 1}
    assert summary.kinds[0] == ("too-long", 2) and summary.first == tuple(i.message for i in issues[:2])


def test_no_trigger_word_means_no_trigger_check(studio: Studio) -> None:
    ds = make_dataset(studio, trigger="")
    add_image(studio, ds, 1, caption="red dress")
    assert caption_checks(studio, ds) == []
