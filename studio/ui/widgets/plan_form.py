"""The inputs of a new content plan: first day, number of days, posts per day, platforms, brief."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from PySide6.QtCore import QDate, Signal
from PySide6.QtWidgets import (QCheckBox, QDateEdit, QHBoxLayout, QLabel, QLineEdit, QPushButton,
                               QSpinBox, QVBoxLayout, QWidget)

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
    generate_requested = Signal(object)  # PlanOrder

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.start = QDateEdit(self)
        self.start.setCalendarPopup(True)
        self.start.setDisplayFormat("yyyy-MM-dd")
        self.start.setDate(QDate(date.today() + timedelta(days=1)))
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
        self.generate_button = QPushButton("Generate plan", self)
        self.generate_button.setToolTip("Ask the plan model for the posts (paid, unless the same "
                                        "plan was asked for before)")
        self.generate_button.clicked.connect(self._on_generate_clicked)
        # Three short rows rather than one long one, so the page fits a small window.
        dates, platforms, brief = QHBoxLayout(), QHBoxLayout(), QHBoxLayout()
        dates.addWidget(QLabel("From", self))
        for widget in (self.start, self.days, self.per_day):
            dates.addWidget(widget)
        dates.addStretch(1)
        platforms.addWidget(QLabel("On", self))
        for box in self.platforms.values():
            platforms.addWidget(box)
        platforms.addStretch(1)
        brief.addWidget(self.brief, 1)
        brief.addWidget(self.generate_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for row in (dates, platforms, brief):
            layout.addLayout(row)

    def order(self) -> PlanOrder:
        chosen = tuple(p for p, box in self.platforms.items() if box.isChecked())
        start = self.start.date().toPython()
        assert isinstance(start, date)
        return PlanOrder(start, self.days.value(), self.per_day.value(), chosen,
                         self.brief.text().strip())

    def _on_generate_clicked(self) -> None:
        self.generate_requested.emit(self.order())
