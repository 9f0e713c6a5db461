"""Which days a calendar view shows, and how it steps: plain date arithmetic, no Qt.

Weeks start on Monday. A month view is always six whole weeks, so its grid never changes
size while stepping from month to month.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

View = Literal["week", "month"]
MONTH_WEEKS = 6


@dataclass(frozen=True, slots=True)
class CalendarRange:
    view: View
    anchor: date  # the day the view is about; it stays in view

    @property
    def days(self) -> list[date]:
        first = self.first
        count = 7 if self.view == "week" else 7 * MONTH_WEEKS
        return [first + timedelta(days=i) for i in range(count)]

    @property
    def first(self) -> date:
        start = self.anchor if self.view == "week" else self.anchor.replace(day=1)
        return start - timedelta(days=start.weekday())

    @property
    def last(self) -> date:
        return self.days[-1]

    @property
    def title(self) -> str:
        if self.view == "month":
            return f"{self.anchor:%B %Y}"
        first, last = self.first, self.first + timedelta(days=6)
        if first.month == last.month:
            return f"{first.day} – {last.day} {last:%b %Y}"
        return f"{first.day} {first:%b} – {last.day} {last:%b %Y}"

    def in_focus(self, day: date) -> bool:
        """A day of the month shown (the weeks around it are drawn dimmed)."""
        return self.view == "week" or (day.year, day.month) == (self.anchor.year, self.anchor.month)

    def stepped(self, direction: int) -> CalendarRange:
        """The previous (-1) or next (+1) week or month."""
        if self.view == "week":
            return CalendarRange("week", self.anchor + timedelta(weeks=direction))
        month = self.anchor.year * 12 + self.anchor.month - 1 + direction
        return CalendarRange("month", date(month // 12, month % 12 + 1, 1))

    def with_view(self, view: View) -> CalendarRange:
        return CalendarRange(view, self.anchor)
