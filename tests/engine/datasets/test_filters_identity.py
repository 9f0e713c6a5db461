"""Identity filters and sorts: flagged pictures, a least score, a face cluster; the stored verdict
read by both row readers."""
from __future__ import annotations

from datetime import timedelta

from studio.engine.core import Studio
from studio.engine.datasets.filters import Identity, ImageFilter, filtered, image_rows
from studio.engine.datasets.grid_rows import all_rows
from tests.engine.datasets.caption_helpers import add_image, make_dataset
from tests.engine.datasets.rows import T0, row

ROWS = [
    row("her.png", faces=((1, 1, 9, 9),), created_at=T0,
        identity=Identity(score=0.83, distance=0.2, face=0, clusters=(1,))),
    row("other.png", faces=((1, 1, 9, 9),), created_at=T0 + timedelta(seconds=1),
        identity=Identity(score=0.3, distance=0.84, face=0, flags=("different_person",), clusters=(2,))),
    row("group.png", faces=((1, 1, 9, 9), (20, 1, 9, 9)), created_at=T0 + timedelta(seconds=2),
        identity=Identity(score=0.7, distance=0.36, face=1, flags=("several_people",), clusters=(2, 1))),
    row("empty.png", created_at=T0 + timedelta(seconds=3), identity=Identity(flags=("no_face",))),
    row("new.png", created_at=T0 + timedelta(seconds=4), analyzed=False),
]


def names(spec: ImageFilter) -> list[str]:
    return [r.name for r in filtered(ROWS, spec)]


def test_each_flag_narrows_to_the_pictures_flagged_so() -> None:
    assert names(ImageFilter(identity="different_person")) == ["other.png"]
    assert names(ImageFilter(identity="several_people")) == ["group.png"]
    assert names(ImageFilter(identity="no_face")) == ["empty.png"]


def test_a_least_score_leaves_out_weaker_and_unscored_pictures() -> None:
    assert names(ImageFilter(identity_score=0.5)) == ["her.png", "group.png"]
    assert names(ImageFilter(identity_score=0.8)) == ["her.png"]
    assert len(names(ImageFilter(identity_score=0.0))) == len(ROWS)


def test_a_cluster_is_every_picture_with_a_face_in_it() -> None:
    assert names(ImageFilter(cluster=1)) == ["her.png", "group.png"]
    assert names(ImageFilter(cluster=2)) == ["other.png", "group.png"]


def test_identity_sorts_put_pictures_without_her_face_last() -> None:
    assert names(ImageFilter(sort="identity")) == ["her.png", "group.png", "other.png", "empty.png", "new.png"]
    assert names(ImageFilter(sort="identity-low")) == ["other.png", "group.png", "her.png", "empty.png",
                                                        "new.png"]


def test_the_stored_verdict_is_read_by_both_readers(studio: Studio) -> None:
    dataset = make_dataset(studio)
    add_image(studio, dataset, 1, faces=[[1, 2, 3, 4], [9, 2, 3, 4]],
              identity={"distance": 0.31, "score": 0.742, "face": 1, "flags": ["several_people"],
                        "cluster": [None, 1], "revision": 3})
    add_image(studio, dataset, 2)
    where = {"workspace_id": dataset.workspace_id, "dataset_id": dataset.id}

    rows = image_rows(studio, **where)

    assert rows == all_rows(studio, **where)
    assert rows[0].identity == Identity(score=0.742, distance=0.31, face=1, flags=("several_people",),
                                        clusters=(None, 1))
    assert rows[1].identity is None and rows[1].identity_score is None


def test_a_malformed_verdict_reads_as_what_it_can() -> None:
    assert Identity.from_stored(None) is None and Identity.from_stored([1]) is None
    odd = Identity.from_stored({"score": "high", "face": "left", "flags": ["no_face", 3], "cluster": ["x", 2]})
    assert odd == Identity(flags=("no_face",), clusters=(None, 2))
