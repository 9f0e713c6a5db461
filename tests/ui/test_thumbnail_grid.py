"""The thumbnail cache and the grid's model: loads off the UI thread, only what is shown, bounded."""
from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage

from studio.engine.core import Studio
from studio.engine.datasets.filters import ImageFilter, image_rows
from studio.engine.datasets.importer import import_paths
from studio.engine.datasets.service import create_dataset
from studio.engine.influencers import Persona, create_influencer
from studio.engine.media.thumbnails import thumbnail_path
from studio.ui import thumbnails
from studio.ui.context import StudioContext
from studio.ui.models.dataset_images import DatasetImageModel
from studio.ui.thumbnails import ThumbnailCache
from studio.ui.widgets.thumbnail_grid import ThumbnailGrid
from tests.ui.helpers import make_images


@pytest.fixture(autouse=True)
def drain_loaders() -> Iterator[None]:
    yield
    thumbnails.wait_until_idle()


@pytest.fixture
def imported(tmp_path: Path, studio: Studio, context: StudioContext):
    influencer = create_influencer(studio, context.workspace_id, Persona(name="Mira", trigger_word="mira_v1"))
    dataset = create_dataset(studio, context.workspace_id, influencer.id, "Portraits")
    report = import_paths(studio, dataset, make_images(tmp_path / "in", 300, size=48))
    assert report.imported == 300
    return dataset


def test_grid_of_300_shows_placeholders_then_only_visible_thumbnails_off_the_ui_thread(
        qtbot, monkeypatch, studio: Studio, context: StudioContext, imported) -> None:
    threads: list[str] = []
    real = thumbnails.load_thumbnail

    def recording(*args):
        threads.append(threading.current_thread().name)
        return real(*args)

    monkeypatch.setattr(thumbnails, "load_thumbnail", recording)
    cache = ThumbnailCache(studio.paths.cache_dir)
    model = DatasetImageModel(cache, studio)
    rows = image_rows(studio, workspace_id=context.workspace_id, dataset_id=imported.id)
    model.set_rows(rows)
    assert model.rowCount() == 300
    first = model.index(0)
    assert model.data(first, Qt.ItemDataRole.DecorationRole) is None  # a placeholder, a load queued

    grid = ThumbnailGrid()
    qtbot.addWidget(grid)
    grid.setModel(model)
    grid.resize(420, 300)
    grid.show()
    qtbot.waitUntil(lambda: isinstance(model.data(first, Qt.ItemDataRole.DecorationRole), QImage))
    qtbot.waitUntil(lambda: cache.pending() == 0)
    assert threads and threading.main_thread().name not in threads
    # Only about one screen was asked for, not all 300.
    assert 1 <= len(cache) < 100
    assert thumbnail_path(studio.paths.cache_dir, rows[0].sha256, 128).is_file()
    assert model.data(model.index(299), Qt.ItemDataRole.DecorationRole) is None

    grid.scrollToBottom()
    qtbot.waitUntil(lambda: isinstance(model.data(model.index(299), Qt.ItemDataRole.DecorationRole), QImage))

    grid.set_thumb_size(200)  # past 128: the 256 px thumbnails are used
    center = grid.indexAt(grid.viewport().rect().center()).row()
    qtbot.waitUntil(lambda: cache.get(model.row_at(center).sha256, 256) is not None)


def test_memory_cache_stays_bounded_and_keeps_the_latest(qtbot, studio: Studio, context: StudioContext,
                                                         imported) -> None:
    rows = image_rows(studio, workspace_id=context.workspace_id, dataset_id=imported.id)[:40]
    cache = ThumbnailCache(studio.paths.cache_dir, capacity=15)
    ready: list[str] = []
    cache.thumbnail_ready.connect(lambda sha, size: ready.append(sha))
    for row in rows:
        cache.request(row.sha256, 128, studio.asset_path(row.storage_key))
    qtbot.waitUntil(lambda: len(ready) == 40, timeout=20_000)
    assert len(cache) == 15
    assert cache.get(ready[-1], 128) is not None and cache.get(ready[0], 128) is None


def test_memory_cache_is_bounded_in_bytes_too(qtbot, studio: Studio, context: StudioContext, imported) -> None:
    rows = image_rows(studio, workspace_id=context.workspace_id, dataset_id=imported.id)[:20]
    one = thumbnails.load_thumbnail(studio.paths.cache_dir, rows[0].sha256, 128,
                                    studio.asset_path(rows[0].storage_key)).sizeInBytes()
    cache = ThumbnailCache(studio.paths.cache_dir, max_bytes=one * 5)
    ready: list[str] = []
    cache.thumbnail_ready.connect(lambda sha, size: ready.append(sha))
    for row in rows:
        cache.request(row.sha256, 128, studio.asset_path(row.storage_key))
    qtbot.waitUntil(lambda: len(ready) == 20, timeout=20_000)
    assert 1 <= len(cache) <= 5 and cache.memory_bytes() <= one * 5
    assert cache.get(ready[-1], 128) is not None and cache.get(ready[0], 128) is None


def test_a_damaged_original_is_reported_once_not_retried(qtbot, studio: Studio, imported,
                                                          context: StudioContext) -> None:
    row = image_rows(studio, workspace_id=context.workspace_id, dataset_id=imported.id)[0]
    thumbnail_path(studio.paths.cache_dir, row.sha256, 256).unlink(missing_ok=True)
    broken = studio.asset_path(row.storage_key)
    broken.write_bytes(b"not a picture any more")
    cache = ThumbnailCache(studio.paths.cache_dir)
    with qtbot.waitSignal(cache.thumbnail_failed, timeout=10_000) as failed:
        assert cache.request(row.sha256, 256, broken) is None
    assert failed.args[0] == row.sha256 and cache.failed(row.sha256, 256)
    assert cache.request(row.sha256, 256, broken) is None and cache.pending() == 0


def test_filters_and_sorts_work_on_the_id_list(studio: Studio, context: StudioContext, imported) -> None:
    rows = image_rows(studio, workspace_id=context.workspace_id, dataset_id=imported.id)
    model = DatasetImageModel(ThumbnailCache(studio.paths.cache_dir))
    model.set_rows(rows)
    model.set_filter(ImageFilter(text="img-01"))
    assert model.rowCount() == 10  # img-010 … img-019
    model.set_filter(ImageFilter(sort="name"))
    names = [model.row_at(i).name for i in range(model.rowCount())]
    assert names == sorted(names) and model.rowCount() == 300
    model.set_filter(ImageFilter(caption="with"))
    assert model.rowCount() == 0


def test_an_arriving_thumbnail_repaints_its_cell_without_laying_out_every_row(
        qtbot, studio: Studio, context: StudioContext, imported) -> None:
    layouts: list[int] = []

    class CountingGrid(ThumbnailGrid):
        def doItemsLayout(self) -> None:
            layouts.append(1)
            super().doItemsLayout()

    model = DatasetImageModel(ThumbnailCache(studio.paths.cache_dir), studio)
    model.set_rows(image_rows(studio, workspace_id=context.workspace_id, dataset_id=imported.id))
    grid = CountingGrid()
    qtbot.addWidget(grid)
    grid.setModel(model)
    grid.resize(420, 300)
    grid.show()
    first = model.index(0)
    qtbot.waitUntil(lambda: isinstance(model.data(first, Qt.ItemDataRole.DecorationRole), QImage))
    qtbot.waitUntil(lambda: grid.visualRect(first).isValid() and not grid.visualRect(first).isEmpty())
    layouts.clear()
    painted: list[int] = []
    delegate = grid.itemDelegate()
    real_paint = delegate.paint
    delegate.paint = lambda painter, option, index: (painted.append(index.row()), real_paint(painter, option, index))

    for _ in range(3):  # as thumbnails arrive one by one
        model.dataChanged.emit(first, first, [Qt.ItemDataRole.DecorationRole])
    qtbot.waitUntil(lambda: 0 in painted)
    qtbot.wait(50)
    assert layouts == []  # before: each change laid all 300 rows out again
    grid.set_thumb_size(160)  # a new cell size still lays the rows out
    qtbot.waitUntil(lambda: layouts != [])
