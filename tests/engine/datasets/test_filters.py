"""Which images of a dataset a listing shows: the filters and sorts the page and the CLI share."""
from __future__ import annotations

from datetime import timedelta

from studio.engine.core import Studio
from studio.engine.datasets.filters import ImageFilter, filtered, image_rows, tag_splitter
from studio.engine.datasets.service import update_image
from tests.engine.datasets.caption_helpers import add_image, make_dataset
from tests.engine.datasets.rows import T0, row

ROWS = [
    row("b.png", caption="mia_v, red dress", faces=((1, 1, 9, 9),), sharpness=40.0,
        created_at=T0 + timedelta(seconds=2)),
    row("a.png", caption="", blurry=True, dark=True, sharpness=5.0, near_dup_group=1,
        created_at=T0 + timedelta(seconds=1)),
    row("c.png", caption="mia_v; beach", width=300, excluded=True, near_dup_group=1,
        faces=((1, 1, 4, 4), (5, 5, 4, 4)), created_at=T0),
    row("d.png", caption="dress", analyzed=False, created_at=T0 + timedelta(seconds=3)),
]


def names(spec: ImageFilter) -> list[str]:
    return [r.name for r in filtered(ROWS, spec)]


def test_every_filter_narrows() -> None:
    assert names(ImageFilter()) == ["c.png", "a.png", "b.png", "d.png"]  # by date
    assert names(ImageFilter(text="DRESS")) == ["b.png", "d.png"]
    assert names(ImageFilter(caption="without")) == ["a.png"]
    assert names(ImageFilter(near_duplicates=True, excluded="hide")) == ["a.png"]
    assert names(ImageFilter(blurry=True)) == names(ImageFilter(exposure="dark")) == ["a.png"]
    assert names(ImageFilter(faces="none")) == ["a.png"]  # d.png was never analysed
    assert names(ImageFilter(faces="many")) == ["c.png"]
    assert names(ImageFilter(excluded="only")) == ["c.png"]
    assert names(ImageFilter(below_target=512)) == ["c.png"]


def test_tags_are_whole_tags_split_as_the_dataset_splits_them() -> None:
    assert names(ImageFilter(tag="dress")) == ["d.png"]  # "red dress" is another tag
    assert names(ImageFilter(tag="beach")) == []  # with the default ',' "mia_v; beach" is one tag
    assert names(ImageFilter(tag="beach", tag_split=tag_splitter(";"))) == ["c.png"]


def test_sorts() -> None:
    assert names(ImageFilter(sort="name")) == ["a.png", "b.png", "c.png", "d.png"]
    assert names(ImageFilter(sort="sharpness")) == ["b.png", "a.png", "c.png", "d.png"]
    assert names(ImageFilter(sort="group")) == ["c.png", "a.png", "b.png", "d.png"]


def test_rows_come_from_one_query_in_import_order(studio: Studio) -> None:
    dataset = make_dataset(studio)
    first = add_image(studio, dataset, 1, caption="mia_v, smile", width=640, height=480,
                      quality={"sharpness": 12.5, "blurry": True}, faces=[[1, 2, 3, 4, 0.9]])
    second = add_image(studio, dataset, 2)
    update_image(studio, dataset.workspace_id, second.id, excluded=True)
    rows = image_rows(studio, workspace_id=dataset.workspace_id, dataset_id=dataset.id)
    assert [r.id for r in rows] == [first.id, second.id]
    assert (rows[0].name, rows[0].sharpness, rows[0].blurry, rows[0].faces) == (
        "img_001.png", 12.5, True, ((1, 2, 3, 4),))
    assert rows[1].excluded and not rows[1].analyzed
    only = image_rows(studio, workspace_id=dataset.workspace_id, dataset_id=dataset.id,
                      image_ids=[second.id])
    assert [r.id for r in only] == [second.id]
    assert [r.id for r in filtered(rows, ImageFilter(excluded="hide", caption="with"))] == [first.id]


def test_a_blur_threshold_judges_by_the_sharpness_score() -> None:
    assert names(ImageFilter(blurry=True)) == ["a.png"]  # the analysis's own judgement
    assert names(ImageFilter(blurry=True, blur_threshold=50.0)) == ["a.png", "b.png"]
    assert names(ImageFilter(blurry=True, blur_threshold=4.0)) == []


def test_a_face_score_threshold_counts_only_the_faces_the_detector_is_sure_of(studio: Studio) -> None:
    dataset = make_dataset(studio)
    sure = add_image(studio, dataset, 1, quality={"face_scores": [0.96]}, faces=[[1, 2, 30, 30]],
                     analyzed_at=T0)
    doubtful = add_image(studio, dataset, 2, quality={"face_scores": [0.96, 0.77]},
                         faces=[[1, 2, 30, 30], [40, 2, 30, 30]], analyzed_at=T0)
    older = add_image(studio, dataset, 3, faces=[[1, 2, 30, 30]], analyzed_at=T0)  # no scores kept
    rows = image_rows(studio, workspace_id=dataset.workspace_id, dataset_id=dataset.id)
    assert rows[1].face_scores == (0.96, 0.77) and rows[2].face_scores == ()

    def shown(**spec: object) -> list:  # type: ignore[type-arg]
        return [r.id for r in filtered(rows, ImageFilter(**spec))]  # type: ignore[arg-type]
    assert shown(faces="one") == [sure.id, older.id]
    assert shown(faces="one", face_score=0.85) == [sure.id, doubtful.id, older.id]
    assert shown(faces="none", face_score=0.99) == [sure.id, doubtful.id]
