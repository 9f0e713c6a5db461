"""Clips on the Datasets page: dropped like pictures, shown with a duration badge, their
duration, fps and frames in the details, their first frame as the preview, captions edited
as for pictures."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import QMimeData, QPointF, QRect, Qt, QUrl
from PySide6.QtGui import QColor, QDropEvent, QImage, QPainter
from PySide6.QtWidgets import QStyleOptionViewItem

from studio.engine.core import Studio
from studio.engine.datasets.importer import import_paths
from studio.ui.pages.datasets import DatasetsPage
from tests.engine.datasets.clips import make_clip
from tests.ui import datasets_page_helpers as shared
from tests.ui.datasets_page_helpers import images, open_with, run_queued_jobs
from tests.ui.helpers import make_images

dataset, page, drain_loaders = shared.dataset, shared.page, shared.drain_loaders  # fixtures, found by name


def test_a_dropped_folder_of_clips_imports_them_and_refuses_a_fake_one(
        qtbot, tmp_path: Path, studio: Studio, ffmpeg: str, dataset, page: DatasetsPage) -> None:
    folder = tmp_path / "moves"
    make_clip(ffmpeg, folder / "walk.mp4", seconds=2)
    (folder / "walk.txt").write_text("mira_v1 walks", encoding="utf-8")
    (folder / "fake.mov").write_text("a text file, not a clip", encoding="utf-8")
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(folder))])
    event = QDropEvent(QPointF(20, 20), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                       Qt.KeyboardModifier.NoModifier)
    page.grid.dropEvent(event)

    qtbot.waitUntil(lambda: run_queued_jobs(studio) > 0, timeout=10_000)
    qtbot.waitUntil(lambda: page.import_panel.refused() != [], timeout=10_000)
    [(source, reason)] = page.import_panel.refused()
    assert source.endswith("fake.mov") and "not a video FFmpeg can read" in reason
    qtbot.waitUntil(lambda: page.model.rowCount() == 1)
    row = page.model.row_at(0)
    assert row.clip is not None and (row.clip.frames, row.clip.fps) == (16, 8.0)
    assert images(studio, dataset)["walk.mp4"].caption == "mira_v1 walks"


def test_a_clip_shows_its_facts_and_first_frame_and_its_caption_is_edited(
        qtbot, tmp_path: Path, studio: Studio, ffmpeg: str, dataset, page: DatasetsPage) -> None:
    import_paths(studio, dataset, [make_clip(ffmpeg, tmp_path / "walk.mp4", seconds=2),
                                   *make_images(tmp_path / "in", 1, size=96)])
    open_with(qtbot, page, 2)
    position = next(i for i in range(2) if page.model.row_at(i).clip is not None)

    tip = page.model.data(page.model.index(position), Qt.ItemDataRole.ToolTipRole)
    assert "160×96" in tip and "clip: 2.0 s · 8 fps · 16 frames" in tip
    page.select_position(position)
    qtbot.waitUntil(lambda: page.pane.canvas.image is not None, timeout=10_000)
    assert (page.pane.canvas.image.width(), page.pane.canvas.image.height()) == (160, 96)
    assert "clip 2.0 s · 8 fps · 16 frames (h264)" in page.pane.info.text()
    assert page.pane.canvas.crop is None and "crop" not in page.pane.info.text()
    qtbot.waitUntil(lambda: page.summary.values["images"].text() == "2 (1 clip)")

    qtbot.waitUntil(page.editor.isEnabled)
    qtbot.keyClicks(page.editor.text, "mira_v1 walking")
    qtbot.waitUntil(lambda: images(studio, dataset)["walk.mp4"].caption == "mira_v1 walking")


def test_the_grid_paints_a_duration_badge_on_clips_only(
        qtbot, tmp_path: Path, studio: Studio, ffmpeg: str, dataset, page: DatasetsPage) -> None:
    import_paths(studio, dataset, [make_clip(ffmpeg, tmp_path / "walk.mp4")])
    open_with(qtbot, page, 1)
    clip_row = page.model.row_at(0)
    delegate = page.grid.itemDelegate()

    def painted(row) -> QImage:  # type: ignore[no-untyped-def]
        page.model._rows[row.id] = row
        image = QImage(200, 200, QImage.Format.Format_RGB32)
        image.fill(QColor("#ffffff"))
        option = QStyleOptionViewItem()
        option.rect = QRect(0, 0, 136, 154)
        option.palette = page.grid.palette()
        option.fontMetrics = page.grid.fontMetrics()
        painter = QPainter(image)
        delegate.paint(painter, option, page.model.index(0))
        painter.end()
        return image

    with_badge, without = painted(clip_row), painted(replace(clip_row, clip=None))
    differing = {(x, y) for x in range(200) for y in range(200)
                 if with_badge.pixel(x, y) != without.pixel(x, y)}
    assert differing and all(x < 70 and 110 < y < 140 for x, y in differing)  # bottom left only
