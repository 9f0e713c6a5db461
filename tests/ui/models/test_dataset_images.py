"""The grid's model: rows arranged off the UI thread, a first page that the whole dataset extends."""
from __future__ import annotations

import uuid
from datetime import timedelta

from studio.engine.core import Studio
from studio.engine.datasets.filters import ImageFilter
from studio.ui.models.dataset_images import DatasetImageModel
from studio.ui.models.grid_rows import arrange
from studio.ui.thumbnails import ThumbnailCache
from tests.engine.datasets.rows import T0, row


def rows(count: int, **fields: object):
    return [row(f"img-{i:03d}.jpg", id=uuid.UUID(int=i + 1), sha256=f"sha-{i}",
                created_at=T0 + timedelta(seconds=i), **fields) for i in range(count)]


def model_of(studio: Studio) -> DatasetImageModel:
    return DatasetImageModel(ThumbnailCache(studio.paths.cache_dir))


def test_arranging_finds_the_changed_rows_of_the_same_ids_and_sums_up(studio: Studio) -> None:
    model = model_of(studio)
    first = rows(5)
    model.set_rows(model.prepare(first))
    assert model.rowCount() == 5 and model.total() == 5

    edited = [*first[:2], row("img-002.jpg", id=first[2].id, sha256="sha-2", created_at=first[2].created_at,
                              caption="mia_v, beach"), *first[3:]]
    again = model.prepare(edited)
    assert model.same_ids(again) and model.changed(again) == [edited[2]]
    assert again.summary.captioned == 1 and again.summary.images == 5
    model.update_rows(model.changed(again))
    assert model.row_at(2).caption == "mia_v, beach"

    grown = model.prepare([*edited, *rows(6)[5:]])
    assert not model.same_ids(grown)
    stale = arrange(edited, model.filter)  # compared with nothing: changes are found on the UI thread
    assert not model.same_ids(stale) and model.changed(stale) == []


def test_a_first_page_is_extended_by_the_whole_dataset_keeping_the_view(qtbot, studio: Studio) -> None:
    model = model_of(studio)
    every = rows(40)
    token = model._first_token = object()
    model._on_first(token, arrange(every[:12], model.filter))
    assert model.rowCount() == 12
    resets, inserted = [], []
    model.modelReset.connect(lambda: resets.append(True))
    model.rowsInserted.connect(lambda _parent, first, last: inserted.append((first, last)))

    model.set_rows(model.prepare(every))

    assert model.rowCount() == 40 and resets == [] and inserted == [(12, 39)]
    assert model.row_at(39).name == "img-039.jpg" and model.position(every[30].id) == 30
    model.set_rows(model.prepare(every))  # no first page any more: a plain reset
    assert resets == [True]


def test_a_late_first_page_or_one_under_another_filter_is_dropped(studio: Studio) -> None:
    model = model_of(studio)
    every = rows(12)
    model.set_rows(every)
    model._on_first(object(), arrange(every[:3], model.filter))  # not the page asked for last
    assert model.rowCount() == 12
    token = model._first_token = object()
    model.set_filter(ImageFilter(text="img-00"))
    model._on_first(token, arrange(every[:3], ImageFilter()))
    assert model.rowCount() == 10 and model.total() == 12  # the filter's rows, not the stale page


def test_a_filter_sees_the_rows_a_first_page_did_not_hold(studio: Studio) -> None:
    model = model_of(studio)
    every = rows(30)
    token = model._first_token = object()
    model._on_first(token, arrange(every[:5], model.filter))
    model.set_rows(model.prepare(every))
    model.set_filter(ImageFilter(text="img-02"))
    assert [model.row_at(i).name for i in range(model.rowCount())] == [f"img-02{i}.jpg" for i in range(10)]
