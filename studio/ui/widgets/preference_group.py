"""One page of the preferences: a plain heading, a line saying what the page is about, and its
settings under small sub-headings. It scrolls up and down, never sideways."""
from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QLabel,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from studio.ui.widgets.preference_field import PreferenceField

PAGE_WIDTH = 920  # past this, a text field only moves its Browse button out of reach


@dataclass(frozen=True, slots=True)
class _Row:
    section: str
    widgets: tuple[QWidget, ...]  # the row's own first, then its label
    text: str  # what a search looks in, besides the section and the page's title


class PreferenceGroup(QScrollArea):
    def __init__(self, title: str, intro: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = title
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self._body = body = QWidget(self)
        body.setMaximumWidth(PAGE_WIDTH)
        self._column = QVBoxLayout(body)
        self._column.setContentsMargins(16, 8, 16, 16)
        self._column.setSpacing(6)
        self.heading = _heading(title, 1.5, body)
        self._column.addWidget(self.heading)
        self.intro = QLabel(intro, body)
        self.intro.setWordWrap(True)
        self._column.addWidget(self.intro)
        # A grid, not a QFormLayout: the grid gives wrapped descriptions the height they take.
        self._grid = QGridLayout()
        self._grid.setHorizontalSpacing(14)
        self._grid.setVerticalSpacing(10)
        self._grid.setColumnStretch(1, 1)
        self._column.addLayout(self._grid)
        self._headings: dict[str, QLabel | None] = {}  # by section; None for the unnamed one
        self._rows: list[_Row] = []
        self.fields: list[PreferenceField] = []
        self.setWidget(body)

    def add_field(self, field: PreferenceField) -> None:
        self._section(field.spec.section)
        field.setParent(self._body)
        label = QLabel(field.label_text(), self._body)
        label.setBuddy(field.editor)
        # As tall as the editor, text centred: the label sits on the editor's line, not the description's.
        label.setMinimumHeight(field.editor.sizeHint().height())
        label.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        self._add(field, label)
        self.fields.append(field)
        spec = field.spec
        self._rows.append(_Row(spec.section, (field, label), f"{spec.label} {spec.description} {spec.key}"))

    def add_row(self, section: str, widget: QWidget, label: str = "") -> None:
        """Something other than a setting (secrets, a button) under ``section``."""
        self._section(section)
        widget.setParent(self._body)
        beside = QLabel(label, self._body) if label else None
        if beside is not None:  # on the widget's line, as the settings' labels are
            beside.setMinimumHeight(widget.sizeHint().height())
            beside.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        self._add(widget, beside)
        self._rows.append(_Row(section, (widget,) if beside is None else (widget, beside), label))

    def filter(self, words: list[str]) -> int:
        """Shows only the rows that hold every one of ``words`` (all rows for none), and the
        sub-headings that still have rows; returns how many rows are shown."""
        shown: list[str] = []  # the section of each row shown
        for row in self._rows:
            text = f"{row.text} {row.section} {self.title}".lower()
            match = all(word in text for word in words)
            for widget in row.widgets:
                widget.setVisible(match)
            if match:
                shown.append(row.section)
        for section, heading in self._headings.items():
            if heading is not None:
                heading.setVisible(section in shown)
        return len(shown)

    def finish(self) -> None:
        self._column.addStretch(1)

    def _section(self, section: str) -> None:
        """A sub-heading, once per section; one grid for the whole page keeps the labels in line."""
        if section in self._headings:
            return
        heading = _heading(section, 1.1, self._body) if section else None
        self._headings[section] = heading
        if heading is not None:
            heading.setContentsMargins(0, 10, 0, 0)
            self._add(heading, None)

    def _add(self, widget: QWidget, label: QLabel | None) -> None:
        """A row: ``label`` on the left and ``widget`` beside it, or ``widget`` across both."""
        row = self._grid.rowCount()
        top_left = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop
        if label is None:
            self._grid.addWidget(widget, row, 0, 1, 2)
            return
        self._grid.addWidget(label, row, 0, top_left)
        self._grid.addWidget(widget, row, 1)


def _heading(text: str, scale: float, parent: QWidget) -> QLabel:
    label = QLabel(text, parent)
    font = label.font()
    font.setPointSizeF(font.pointSizeF() * scale)
    font.setBold(True)
    label.setFont(font)
    return label
