"""The Datasets page's parts, made for its staged build (studio.ui.staged): the toolbar and the
grid's splitter come first, with empty slots that the later stages fill (the picture and caption
column, the side tabs), so that the grid keeps its place while the rest arrives."""
from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QLayout, QPushButton, QSlider, QSplitter, QVBoxLayout, QWidget

from studio.ui.context import StudioContext
from studio.ui.pages import dataset_ops as ops
from studio.ui.pages.dataset_picker import DatasetPicker
from studio.ui.widgets.badge_legend import with_legend
from studio.ui.widgets.caption_editor import CaptionEditor
from studio.ui.widgets.caption_history import CaptionHistory
from studio.ui.widgets.filter_bar import FilterBar
from studio.ui.widgets.image_pane import ImagePane

SPLITTER_SIZES = (420, 320, 240)  # grid, picture and caption, side tabs


@dataclass(frozen=True, slots=True)
class Toolbar:
    row: QHBoxLayout
    picker: DatasetPicker
    import_button: QPushButton
    batch_button: QPushButton
    autocaption_button: QPushButton


@dataclass(frozen=True, slots=True)
class Panes:
    splitter: QSplitter
    right: QWidget  # the slot of the picture and caption column
    side: QWidget  # the slot of the summary and tags

    def fill_right(self, column: QWidget) -> None:
        _fill(self.right, column)

    def fill_side(self, tabs: QWidget) -> None:
        """The last slot: the first sizes are given again, now that the splitter can share out its
        width by its children's smallest sizes, which the empty slots did not have."""
        _fill(self.side, tabs)
        self.splitter.setSizes(list(SPLITTER_SIZES))


def make_toolbar(context: StudioContext, parent: QWidget) -> Toolbar:
    picker = DatasetPicker(context, parent)
    import_button = QPushButton("Add pictures…", parent)
    batch_button = QPushButton("Batch edit…", parent)
    autocaption_button = QPushButton("Auto-caption…", parent)
    autocaption_button.setToolTip("Caption the selected pictures (or those without a caption) "
                                  "with the vision model set in Settings (llm.model)")
    row = QHBoxLayout()
    row.addWidget(picker)
    row.addWidget(import_button)
    row.addStretch(1)
    for widget in (batch_button, autocaption_button):
        row.addWidget(widget)
    return Toolbar(row, picker, import_button, batch_button, autocaption_button)


def make_title(parent: QWidget) -> QLabel:
    title = QLabel("<h2>Datasets</h2>Drop pictures, short clips, folders or zip files on the grid to "
                   "import them; curate, crop and caption; export for training.", parent)
    title.setWordWrap(True)
    return title


def make_status(parent: QWidget) -> QLabel:
    """The line under the grid that says what happened; hidden while it has nothing to say."""
    status = QLabel(parent)
    status.setObjectName("datasets-status")
    status.setWordWrap(True)
    status.hide()
    return status


def make_panes(grid: QWidget, parent: QWidget) -> Panes:
    right, side = _slot(parent), _slot(parent)
    splitter = QSplitter(parent)
    for widget in (with_legend(grid, parent), right, side):
        splitter.addWidget(widget)
    splitter.setStretchFactor(0, 3)
    splitter.setStretchFactor(1, 2)
    splitter.setSizes(list(SPLITTER_SIZES))
    return Panes(splitter, right, side)


def make_filters(parent: QWidget) -> tuple[FilterBar, QSlider]:
    """The filter bar, with the thumbnail size slider at the end of its second row."""
    slider = QSlider(Qt.Orientation.Horizontal, parent)
    slider.setRange(64, 256)
    slider.setValue(128)
    slider.setFixedWidth(110)
    slider.setToolTip("Thumbnail size")
    filters = FilterBar(parent)
    filters.extra.addWidget(QLabel("Size", parent))
    filters.extra.addWidget(slider)
    filters.tag_split = ops.tag_splitter(",")
    return filters, slider


def make_caption_column(pane: ImagePane, editor: CaptionEditor, history: CaptionHistory,
                        parent: QWidget) -> QSplitter:
    editor_box = QWidget(parent)
    editor_column = QVBoxLayout(editor_box)
    editor_column.setContentsMargins(0, 0, 0, 0)
    editor_column.addWidget(editor, 1)
    editor_column.addLayout(history.buttons())  # under the editor: captions are what they take back
    right = QSplitter(Qt.Orientation.Vertical, parent)
    right.addWidget(pane)
    right.addWidget(editor_box)
    right.setStretchFactor(0, 3)
    right.setStretchFactor(1, 1)
    return right


def _slot(parent: QWidget) -> QWidget:
    """An empty box that a later stage fills."""
    box = QWidget(parent)
    QVBoxLayout(box).setContentsMargins(0, 0, 0, 0)
    return box


def _fill(box: QWidget, content: QWidget) -> None:
    layout = box.layout()
    assert isinstance(layout, QLayout)  # made by ``_slot``
    layout.addWidget(content)
