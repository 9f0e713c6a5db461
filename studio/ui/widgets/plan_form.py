"""The inputs of a new content plan: first day, number of days, posts per day, platforms, brief."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from PySide6.QtCore import QDate, Signal
from PySide6.QtWidgets import QCheckBox, QDateEdit, QHBoxLayout, QLabel, QLineEdit, QSpinBox, QVBoxLayout, QWidget

from studio.engine.plans.schema import PLATFORMS
from studio.engine.plans.service import MAX_DAYS, MAX_PER_DAY


@dataclass(frozen=True, slots=True)
class PlanOrder:
    start: date
    days: int
    per_day: int
    platforms: tuple[str, ...]
    brief: str


class PlanForm(QWidget):
    changed = Signal()  # any input changed: the cost estimate is redone

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.start = QDateEdit(self)
        self.start.setCalendarPopup(True)
        self.start.setDisplayFormat("yyyy-MM-dd")
        tomorrow = date.today() + timedelta(days=1)
        self.start.setDate(QDate(tomorrow.year, tomorrow.month, tomorrow.day))
        self.days = QSpinBox(self)
        self.days.setRange(1, MAX_DAYS)
        self.days.setValue(7)
        self.days.setSuffix(" days")
        self.per_day = QSpinBox(self)
        self.per_day.setRange(1, MAX_PER_DAY)
        self.per_day.setSuffix(" per day")
        self.platforms = {p: QCheckBox(p, self) for p in PLATFORMS}
        self.platforms["instagram"].setChecked(True)
        self.brief = QLineEdit(self)
        self.brief.setPlaceholderText("extra instructions (optional)")
        self.start.dateChanged.connect(self.changed)
        self.days.valueChanged.connect(self.changed)
        self.per_day.valueChanged.connect(self.changed)
        self.brief.textChanged.connect(self.changed)
        for box in self.platforms.values():
            box.toggled.connect(self.changed)
        dates, platforms = QHBoxLayout(), QHBoxLayout()
        dates.addWidget(QLabel("From", self))
        for widget in (self.start, self.days, self.per_day):
            dates.addWidget(widget)
        dates.addStretch(1)
        platforms.addWidget(QLabel("On", self))
        for box in self.platforms.values():
            platforms.addWidget(box)
        platforms.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for row in (dates, platforms):
            layout.addLayout(row)
        layout.addWidget(self.brief)

    def order(self) -> PlanOrder:
        chosen = tuple(p for p, box in self.platforms.items() if box.isChecked())
        start = self.start.date().toPython()
        assert isinstance(start, date)
        return PlanOrder(start, self.days.value(), self.per_day.value(), chosen,
                         self.brief.text().strip())
