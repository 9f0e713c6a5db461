"""Caption edits and batch tag operations with undo/redo, stored as per-image before/after rows."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from studio.engine.core import Studio
from studio.engine.datasets import captions
from studio.engine.datasets.captions import AddTags, InsertTrigger, RemoveTags, RenameTag, ReplaceText, SortTags
from studio.engine.datasets.service import list_images
from studio.engine.db.models import CaptionBatch, CaptionChange
from studio.engine.errors import NotFound
from tests.engine.datasets.caption_helpers import add_image, captions_of, make_dataset


@pytest.fixture
def dataset(studio: Studio):  # type: ignore[no-untyped-def]
    ds = make_dataset(studio)
    add_image(studio, ds, 1, caption="mia_v, red dress, beach")
    add_image(studio, ds, 2, caption="mia_v, blue dress, city")
    add_image(studio, ds, 3, caption="portrait, red dress")
    add_image(studio, ds, 4, caption="")
    return ds


def _change_rows(studio: Studio) -> int:
    with studio.db.session() as session:
        return int(session.scalar(select(func.count()).select_from(CaptionChange)) or 0)


def test_set_caption_undo_redo_and_tags_column(studio: Studio, dataset) -> None:  # type: ignore[no-untyped-def]
    image = list_images(studio, dataset)[3]
    captions.set_caption(studio, dataset, image.id, "mia_v, smiling")
    assert list_images(studio, dataset)[3].tags == ["mia_v", "smiling"]
    assert captions.history(studio, dataset) == captions.HistoryState(True, False, "Edit caption", "")
    assert captions.undo(studio, dataset) == "Edit caption"
    assert list_images(studio, dataset)[3].caption == ""
    assert captions.redo(studio, dataset) == "Edit caption"
    assert list_images(studio, dataset)[3].caption == "mia_v, smiling"
    assert captions.redo(studio, dataset) is None
    captions.set_caption(studio, dataset, image.id, "mia_v, smiling")  # same text: no step
    assert _change_rows(studio) == 1


def test_batches_undo_and_redo_step_by_step(studio: Studio, dataset) -> None:  # type: ignore[no-untyped-def]
    ops = [InsertTrigger("mia_v"), RenameTag("red dress", "crimson dress"),
           ReplaceText(r"\b(blue|crimson) dress\b", r"\1 gown", regex=True), SortTags()]
    states = [captions_of(studio, dataset)]
    for op in ops:
        assert captions.apply(studio, dataset, op) > 0
        states.append(captions_of(studio, dataset))
    assert states[-1] == {"img_001.png": "mia_v, beach, crimson gown",
                          "img_002.png": "mia_v, blue gown, city",
                          "img_003.png": "mia_v, crimson gown, portrait", "img_004.png": "mia_v"}
    for expected in reversed(states[:-1]):  # each undo restores the state before that step
        assert captions.undo(studio, dataset) is not None
        assert captions_of(studio, dataset) == expected
    assert captions.undo(studio, dataset) is None
    for expected, op in zip(states[1:], ops, strict=True):
        assert captions.redo(studio, dataset) == op.label
        assert captions_of(studio, dataset) == expected


def test_new_edit_after_undo_discards_redo(studio: Studio, dataset) -> None:  # type: ignore[no-untyped-def]
    captions.apply(studio, dataset, AddTags(["outdoors"]))
    captions.apply(studio, dataset, RemoveTags(["beach"]))
    captions.undo(studio, dataset)
    assert captions.history(studio, dataset).redo_label == "Remove beach"
    captions.apply(studio, dataset, AddTags(["sunny"]))
    state = captions.history(studio, dataset)
    assert (state.can_redo, state.undo_label) == (False, "Add sunny")
    with studio.db.session() as session:
        labels = session.scalars(select(CaptionBatch.label).order_by(CaptionBatch.seq)).all()
    assert labels == ["Add outdoors", "Add sunny"]


def test_only_changed_images_are_recorded(studio: Studio, dataset) -> None:  # type: ignore[no-untyped-def]
    assert captions.apply(studio, dataset, RemoveTags(["city"])) == 1
    assert _change_rows(studio) == 1
    assert captions.apply(studio, dataset, RemoveTags(["nothing-has-this"])) == 0
    assert captions.history(studio, dataset).undo_label == "Remove city"  # no empty step


def test_apply_to_selected_images_only(studio: Studio, dataset) -> None:  # type: ignore[no-untyped-def]
    first, second = [i.id for i in list_images(studio, dataset)[:2]]
    assert captions.apply(studio, dataset, AddTags(["chosen"]), [first, second]) == 2
    assert [c.endswith("chosen") for c in captions_of(studio, dataset).values()] == [True, True, False, False]


def test_tag_frequency(studio: Studio, dataset) -> None:  # type: ignore[no-untyped-def]
    add_image(studio, dataset, 5, caption="beach, beach, mia_v")  # twice in one image counts once
    assert captions.tag_frequency(studio, dataset)[:4] == [
        ("mia_v", 3), ("beach", 2), ("red dress", 2), ("blue dress", 1)]
    some = [list_images(studio, dataset)[2].id]
    assert captions.tag_frequency(studio, dataset, some) == [("portrait", 1), ("red dress", 1)]


def test_typing_merges_into_one_step(studio: Studio, dataset) -> None:  # type: ignore[no-untyped-def]
    image = list_images(studio, dataset)[0]
    for text in ("mia_v, r", "mia_v, re", "mia_v, red"):
        captions.set_caption(studio, dataset, image.id, text, merge=True)
    captions.undo(studio, dataset)
    assert list_images(studio, dataset)[0].caption == "mia_v, red dress, beach"
    assert captions.history(studio, dataset).can_undo is False


def test_history_is_capped(studio: Studio, dataset, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(captions, "HISTORY_LIMIT", 2)
    for tag in ("a", "b", "c"):
        captions.apply(studio, dataset, AddTags([tag]))
    assert captions.undo(studio, dataset) == "Add c"
    assert captions.undo(studio, dataset) == "Add b"
    assert captions.undo(studio, dataset) is None
    assert _change_rows(studio) == 8  # two steps of four images, the oldest dropped


def test_each_step_is_saved_at_once(studio: Studio, dataset, data_dir) -> None:  # type: ignore[no-untyped-def]
    captions.apply(studio, dataset, AddTags(["saved"]))
    other = Studio.open(data_dir)  # another process's view: nothing waits in memory
    try:
        assert all(c.endswith("saved") for c in captions_of(other, dataset).values())
        assert captions.undo(other, dataset) == "Add saved"
    finally:
        other.close()
    assert "saved" not in captions_of(studio, dataset)["img_001.png"]


def test_image_of_another_dataset_is_not_found(studio: Studio, dataset) -> None:  # type: ignore[no-untyped-def]
    other = make_dataset(studio, influencer="Zoe", trigger="zoe_k")
    stranger = add_image(studio, other, 9, caption="x")
    with pytest.raises(NotFound):
        captions.set_caption(studio, dataset, stranger.id, "hijack")


def test_a_caption_changed_since_the_editor_read_it_is_not_replaced(studio: Studio, dataset) -> None:  # type: ignore[no-untyped-def]
    image = list_images(studio, dataset)[0]
    captions.set_caption(studio, dataset, image.id, "mia_v, auto caption")  # e.g. auto-captioning
    with pytest.raises(captions.CaptionConflict) as refused:
        captions.set_caption(studio, dataset, image.id, "mia_v, typed", expected=image.caption)
    assert refused.value.current == "mia_v, auto caption"
    assert list_images(studio, dataset)[0].caption == "mia_v, auto caption"
    captions.set_caption(studio, dataset, image.id, "mia_v, typed", expected="mia_v, auto caption")
    assert list_images(studio, dataset)[0].caption == "mia_v, typed"


def test_exclusions_are_steps_of_the_caption_history(studio: Studio, dataset) -> None:  # type: ignore[no-untyped-def]
    first, second, *_ = list_images(studio, dataset)
    assert captions.set_excluded(studio, dataset, [first.id, second.id], True,
                                 label="Exclude 2 blurry") == 2
    assert captions.set_excluded(studio, dataset, [first.id], True) == 0  # already out: no step
    assert [i.excluded for i in list_images(studio, dataset)] == [True, True, False, False]
    captions.set_caption(studio, dataset, first.id, "mia_v, red dress")
    assert captions.undo(studio, dataset) == "Edit caption"  # one history: the latest goes first
    assert captions.undo(studio, dataset) == "Exclude 2 blurry"
    after_undo = list_images(studio, dataset)
    assert [i.excluded for i in after_undo] == [False, False, False, False]
    assert after_undo[0].caption == "mia_v, red dress, beach"  # captions untouched by the step
    assert captions.redo(studio, dataset) == "Exclude 2 blurry"
    assert list_images(studio, dataset)[1].excluded
    assert captions.set_excluded(studio, dataset, [second.id], False) == 1
    assert captions.history(studio, dataset).undo_label == "Bring back img_002.png"
    assert list_images(studio, dataset)[1].caption == "mia_v, blue dress, city"
    with studio.db.session() as session:  # the steps left (the undone edit was dropped) say so
        fields = {c.field for c in session.scalars(select(CaptionChange))}
    assert fields == {"excluded"}


def test_a_caption_that_reads_like_an_exclusion_value_stays_a_caption(studio: Studio, dataset) -> None:  # type: ignore[no-untyped-def]
    first = list_images(studio, dataset)[0]
    captions.set_caption(studio, dataset, first.id, "yes")
    captions.set_caption(studio, dataset, first.id, "no")
    assert captions.undo(studio, dataset) == "Edit caption"
    image = list_images(studio, dataset)[0]
    assert (image.caption, image.excluded) == ("yes", False)


def test_rename_and_delete_of_a_tag_across_the_dataset_undo(studio: Studio, dataset) -> None:  # type: ignore[no-untyped-def]
    assert captions.apply(studio, dataset, RenameTag("red dress", "crimson dress")) == 2
    assert captions.tag_frequency(studio, dataset)[0] == ("crimson dress", 2)
    assert captions.apply(studio, dataset, RemoveTags(("mia_v",))) == 2
    assert "mia_v" not in dict(captions.tag_frequency(studio, dataset))
    captions.undo(studio, dataset)
    captions.undo(studio, dataset)
    assert captions_of(studio, dataset)["img_001.png"] == "mia_v, red dress, beach"
