"""A week or month calendar of plan items, coloured by status; drag a post to another day.

One custom-painted grid (a few hundred chips at most, so a full repaint is cheap) under a small
bar: previous / today / next, the title, all influencers or the chosen one, week or month.
The widget only shows rows and says what the user did (selected a post, dropped it on a day,
changed the range); the Plans page loads the rows and writes the move through the engine.
"""
from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from PySide6.QtCore import QEvent, QPoint, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QFont,
    QHelpEvent,
    QImage,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPen,
    QResizeEvent,
)
from PySide6.QtWidgets import (
    QApplication,
    QButtonGroup,
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QToolButton,
    QToolTip,
    QVBoxLayout,
    QWidget,
)

from studio.engine.plans.calendar import CalendarRow
from studio.ui.models.plan_calendar import CalendarRange, View
from studio.ui.thumbnails import ThumbnailCache
from studio.ui.widgets.plan_chip import STATUS_COLOURS, THUMB_SIZE, ChipLook, paint_chip, picture_key, picture_of
from studio.ui.widgets.publish_status import posted_note

__all__ = ["STATUS_COLOURS", "CalendarGrid", "PlanCalendar"]

TODAY_ACCENT = "#d35400"
TODAY_TINT = 0.18  # of the accent over the cell's colour: visible in light and dark themes
DROP_TINT = 0.30  # of the highlight colour, where a dragged post would land
HEADER_HEIGHT = 22
DAY_LABEL_HEIGHT = 18
CHIP_HEIGHT = 18
CHIP_GAP = 2
PAD = 3
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def mixed(base: QColor, tint: QColor, share: float) -> QColor:
    """An opaque blend, so the cell's colour is the same whatever is painted under it."""
    return QColor.fromRgbF(*(b + (t - b) * share for b, t in
                             ((base.redF(), tint.redF()), (base.greenF(), tint.greenF()),
                              (base.blueF(), tint.blueF()))))


@dataclass(frozen=True, slots=True)
class Chip:
    rect: QRectF
    row: CalendarRow


class CalendarGrid(QWidget):
    item_selected = Signal(object)  # item id
    item_moved = Signal(object, object)  # item id, new local date

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.range = CalendarRange("week", date.today())
        self.rows: list[CalendarRow] = []
        self.selected: uuid.UUID | None = None
        self.show_influencer = False
        self.thumbnails: ThumbnailCache | None = None
        self._chips: list[Chip] = []
        self._more: dict[date, int] = {}  # posts that did not fit a month cell
        self._press: tuple[Chip, QPoint] | None = None
        self._drop_day: date | None = None
        self._drag_pos: QPointF | None = None
        self.setMinimumSize(280, 240)
        self.setMouseTracking(False)

    # Data -------------------------------------------------------------------------------------

    def set_range(self, calendar_range: CalendarRange) -> None:
        self.range = calendar_range
        self._relayout()

    def set_rows(self, rows: Sequence[CalendarRow]) -> None:
        self.rows = list(rows)
        self._relayout()

    def select(self, item_id: uuid.UUID | None) -> None:
        self.selected = item_id
        self.update()

    # Geometry (public for tests and for the page's "scroll to" needs) --------------------------

    def day_rect(self, day: date) -> QRectF | None:
        days = self.range.days
        if day not in days:
            return None
        index = days.index(day)
        weeks = len(days) // 7
        width = self.width() / 7
        height = (self.height() - HEADER_HEIGHT) / weeks
        return QRectF((index % 7) * width, HEADER_HEIGHT + (index // 7) * height, width, height)

    def chip_rect(self, item_id: uuid.UUID) -> QRectF | None:
        return next((c.rect for c in self._chips if c.row.item.id == item_id), None)

    def day_at(self, point: QPointF) -> date | None:
        return next((d for d in self.range.days if (r := self.day_rect(d)) and r.contains(point)), None)

    def chip_at(self, point: QPointF) -> Chip | None:
        return next((c for c in self._chips if c.rect.contains(point)), None)

    def hidden_on(self, day: date) -> int:
        return self._more.get(day, 0)

    def _relayout(self) -> None:
        by_day: dict[date, list[CalendarRow]] = {}
        for row in self.rows:
            by_day.setdefault(row.item.scheduled_at.astimezone().date(), []).append(row)
        self._chips, self._more = [], {}
        for day, rows in by_day.items():
            cell = self.day_rect(day)
            if cell is None:
                continue
            height = self._chip_height()
            room = int((cell.height() - DAY_LABEL_HEIGHT - PAD) // (height + CHIP_GAP))
            shown = rows[:max(room, 0)]  # "+N more" goes in the day's label line
            for index, row in enumerate(shown):
                top = cell.top() + DAY_LABEL_HEIGHT + index * (height + CHIP_GAP)
                rect = QRectF(cell.left() + PAD, top, cell.width() - 2 * PAD, height)
                self._chips.append(Chip(rect, row))
            if len(shown) < len(rows):
                self._more[day] = len(rows) - len(shown)
        self.update()

    def today_fill(self) -> QColor:
        return mixed(self.palette().base().color(), QColor(TODAY_ACCENT), TODAY_TINT)

    def _chip_height(self) -> int:
        # A week has room for two lines (time, then topic); a month cell for one.
        lines = 2 if self.range.view == "week" else 1
        return max(CHIP_HEIGHT, lines * self.fontMetrics().height() + 4)

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802
        super().resizeEvent(event)
        self._relayout()

    # Painting ---------------------------------------------------------------------------------

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        painter.fillRect(self.rect(), self.palette().base())
        self._paint_weekdays(painter)
        for day in self.range.days:
            self._paint_day(painter, day)
        painter.setFont(self.font())
        dragged = self._press[0] if self._press and self._drag_pos is not None else None
        for chip in self._chips:
            self._paint_chip(painter, chip.rect, chip.row, faded=chip is dragged)
        if dragged is not None and self._drag_pos is not None:
            ghost = QRectF(dragged.rect)
            ghost.moveCenter(self._drag_pos)
            self._paint_chip(painter, ghost, dragged.row, faded=False)
        painter.end()

    def _paint_weekdays(self, painter: QPainter) -> None:
        width = self.width() / 7
        painter.setPen(self.palette().text().color())
        for column, name in enumerate(WEEKDAYS):
            painter.drawText(QRectF(column * width, 0, width, HEADER_HEIGHT),
                             Qt.AlignmentFlag.AlignCenter, name)

    def _paint_day(self, painter: QPainter, day: date) -> None:
        """The day's cell: drop or today tint, border, its number and "+N more"."""
        palette, today = self.palette(), date.today()
        cell = self.day_rect(day)
        assert cell is not None
        if day == self._drop_day:
            painter.fillRect(cell, mixed(palette.base().color(), palette.highlight().color(), DROP_TINT))
        elif day == today:
            painter.fillRect(cell, self.today_fill())
        painter.setPen(QPen(palette.mid().color()))
        painter.drawRect(cell)
        label = QRectF(cell.left() + PAD, cell.top(), cell.width() - 2 * PAD, DAY_LABEL_HEIGHT)
        text = f"{day.day}" if day.day != 1 else f"{day.day} {day:%b}"
        font = QFont(self.font())
        if day == today:
            font.setBold(True)
            painter.setPen(QColor(TODAY_ACCENT))
            text += "  today"
        else:
            painter.setPen(palette.text().color() if self.range.in_focus(day)
                           else palette.placeholderText().color())
        painter.setFont(font)
        painter.drawText(label, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, text)
        if self._more.get(day):
            painter.setFont(self.font())
            painter.setPen(palette.text().color())
            painter.drawText(label, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                             f"+{self._more[day]} more")

    def _paint_chip(self, painter: QPainter, rect: QRectF, row: CalendarRow, *, faded: bool) -> None:
        look = ChipLook(selected=row.item.id == self.selected, faded=faded,
                        show_influencer=self.show_influencer, picture=self._picture(row))
        paint_chip(painter, rect, row, look)

    def set_thumbnails(self, cache: ThumbnailCache) -> None:
        """Cards show their post's picture from ``cache`` once it is made."""
        self.thumbnails = cache
        cache.thumbnail_ready.connect(lambda *_: self.update())

    def _picture(self, row: CalendarRow) -> QImage | None:
        path = picture_of(row.item) if self.thumbnails is not None else None
        if path is None or self.thumbnails is None:
            return None
        return self.thumbnails.request(picture_key(path), THUMB_SIZE, path)  # None until decoded

    # Mouse: click selects, a drag past the system distance moves ------------------------------

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        chip = self.chip_at(event.position()) if event.button() == Qt.MouseButton.LeftButton else None
        self._press = (chip, event.position().toPoint()) if chip is not None else None
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if self._press is None:
            return
        moved = (event.position().toPoint() - self._press[1]).manhattanLength()
        if self._drag_pos is None and moved < QApplication.startDragDistance():
            return
        self._drag_pos = event.position()
        self._drop_day = self.day_at(event.position())
        self.setCursor(Qt.CursorShape.ClosedHandCursor)
        self.update()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        press, dragging = self._press, self._drag_pos is not None
        target = self.day_at(event.position()) if dragging else None
        self._press, self._drag_pos, self._drop_day = None, None, None
        self.unsetCursor()
        self.update()
        if press is None:
            return
        item = press[0].row.item
        if not dragging:
            self.selected = item.id
            self.item_selected.emit(item.id)
        elif target is not None and target != item.scheduled_at.astimezone().date():
            self.item_moved.emit(item.id, target)

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip and isinstance(event, QHelpEvent):
            chip = self.chip_at(QPointF(event.pos()))
            if chip is None:
                QToolTip.hideText()
            else:
                item = chip.row.item
                QToolTip.showText(event.globalPos(),
                                  f"{item.scheduled_at.astimezone():%a %d %b %H:%M} · {item.platform} · "
                                  f"{item.status}\n{chip.row.influencer}: {item.topic}\n{item.hook}{posted_note(item)}",
                                  self)
            return True
        return super().event(event)


class PlanCalendar(QWidget):
    """The grid with its navigation bar and a legend of the status colours."""

    range_changed = Signal()  # the page loads the rows of the new range (or scope)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.grid = CalendarGrid(self)
        self.item_selected = self.grid.item_selected
        self.item_moved = self.grid.item_moved
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(self._build_bar())
        layout.addWidget(self.grid, 1)
        layout.addLayout(self._build_legend())
        self._show_range(CalendarRange("week", date.today()))

    def _build_bar(self) -> QHBoxLayout:
        """Previous, Today, Next, the range's title, All influencers, Week and Month."""
        self.previous_button = QToolButton(self)
        self.previous_button.setText("◀")
        self.previous_button.setToolTip("Previous week or month")
        self.previous_button.clicked.connect(lambda: self._step(-1))
        self.next_button = QToolButton(self)
        self.next_button.setText("▶")
        self.next_button.setToolTip("Next week or month")
        self.next_button.clicked.connect(lambda: self._step(1))
        self.today_button = QToolButton(self)
        self.today_button.setText("Today")
        self.today_button.clicked.connect(self.go_today)
        self.title = self._build_title()
        self.all_influencers = QCheckBox("All influencers", self)
        self.all_influencers.setToolTip("Show every influencer's posts, with their names")
        self.all_influencers.toggled.connect(self._on_scope_toggled)
        self._build_view_buttons()
        bar = QHBoxLayout()
        for widget in (self.previous_button, self.today_button, self.next_button):
            bar.addWidget(widget)
        bar.addWidget(self.title, 1)
        bar.addWidget(self.all_influencers)
        bar.addWidget(self.week_button)
        bar.addWidget(self.month_button)
        return bar

    def _build_title(self) -> QLabel:
        title = QLabel(self)
        title.setObjectName("plan-calendar-title")
        font = title.font()
        font.setBold(True)
        title.setFont(font)
        # Long titles and the hint may be cut in a narrow window rather than widen it.
        title.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        return title

    def _build_view_buttons(self) -> None:
        """Week and Month, one of them checked at a time."""
        self.week_button = QToolButton(self)
        self.week_button.setText("Week")
        self.month_button = QToolButton(self)
        self.month_button.setText("Month")
        views = QButtonGroup(self)
        for button in (self.week_button, self.month_button):
            button.setCheckable(True)
            views.addButton(button)
        self.week_button.setChecked(True)
        self.week_button.toggled.connect(self._on_view_toggled)
        self.month_button.toggled.connect(self._on_view_toggled)

    def _build_legend(self) -> QHBoxLayout:
        legend = QHBoxLayout()
        for status, colour in STATUS_COLOURS.items():
            swatch = QLabel(status, self)
            swatch.setStyleSheet(f"background: {colour}; color: white; padding: 1px 6px;")
            legend.addWidget(swatch)
        hint = QLabel("Drag a post to another day to move it.", self)
        hint.setEnabled(False)
        hint.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        legend.addWidget(hint, 1)
        return legend

    @property
    def range(self) -> CalendarRange:
        return self.grid.range

    def set_view(self, view: View) -> None:
        if view != self.range.view:
            (self.week_button if view == "week" else self.month_button).setChecked(True)
            self._show_range(self.range.with_view(view))

    def show_day(self, day: date) -> None:
        if day not in self.range.days or not self.range.in_focus(day):
            self._show_range(CalendarRange(self.range.view, day))

    def _on_view_toggled(self) -> None:
        self.set_view("month" if self.month_button.isChecked() else "week")

    def go_today(self) -> None:
        self._show_range(CalendarRange(self.range.view, date.today()))

    def set_rows(self, rows: Sequence[CalendarRow]) -> None:
        self.grid.show_influencer = self.all_influencers.isChecked()
        self.grid.set_rows(rows)

    def _step(self, direction: int) -> None:
        self._show_range(self.range.stepped(direction))

    def _show_range(self, calendar_range: CalendarRange) -> None:
        self.grid.set_range(calendar_range)
        self.title.setText(calendar_range.title)
        self.range_changed.emit()

    def _on_scope_toggled(self) -> None:
        self.range_changed.emit()
