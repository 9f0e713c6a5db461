"""The plans of the chosen influencer as a list, and the posts of the chosen plan as a table."""
from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QListWidget,
    QListWidgetItem,
    QTableWidget,
    QTableWidgetItem,
    QWidget,
)

from studio.engine.db.models import PlanItem
from studio.engine.plans.service import PlanSummary

COLUMNS = ("When", "Platform", "Status", "Topic", "Hook")
ID_ROLE = Qt.ItemDataRole.UserRole


class PlanList(QListWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("plans-list")
        self.setMinimumWidth(120)

    def set_plans(self, summaries: Sequence[PlanSummary], wanted: str | None) -> None:
        """Shows the plans with ``wanted`` chosen, else the newest; quietly: the caller reads
        the choice afterwards."""
        self.blockSignals(True)
        self.clear()
        for summary in summaries:
            entry = QListWidgetItem(plan_line(summary))
            entry.setData(ID_ROLE, str(summary.plan.id))
            self.addItem(entry)
            if str(summary.plan.id) == wanted:
                self.setCurrentItem(entry)
        if self.currentRow() < 0 and self.count():
            self.setCurrentRow(self.count() - 1)
        self.blockSignals(False)

    def current_plan_id(self) -> str | None:
        row = self.currentRow()
        return str(self.item(row).data(ID_ROLE)) if row >= 0 else None


class PlanItemsTable(QTableWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(0, len(COLUMNS), parent)
        self.posts: list[PlanItem] = []
        self.setObjectName("plan-items")
        self.setHorizontalHeaderLabels(COLUMNS)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.verticalHeader().hide()
        self.horizontalHeader().setSectionResizeMode(len(COLUMNS) - 1, QHeaderView.ResizeMode.Stretch)

    def set_items(self, items: Sequence[PlanItem], selected: uuid.UUID | None) -> None:
        """Shows ``items`` with ``selected`` chosen (when it is among them), quietly: the caller
        reads the selection afterwards."""
        self.posts = list(items)
        self.blockSignals(True)
        self.clearSelection()
        self.setRowCount(len(self.posts))
        for row, item in enumerate(self.posts):
            values = (f"{item.scheduled_at.astimezone():%a %d %b %H:%M}", item.platform,
                      item.status, item.topic, item.hook)
            for column, value in enumerate(values):
                self.setItem(row, column, QTableWidgetItem(value))
        self.resizeColumnsToContents()
        self.select_item(selected)
        self.blockSignals(False)

    def selected_item(self) -> PlanItem | None:
        rows = {i.row() for i in self.selectedIndexes()}
        return self.posts[rows.pop()] if len(rows) == 1 else None

    def select_item(self, item_id: uuid.UUID | None) -> bool:
        index = next((i for i, item in enumerate(self.posts) if item.id == item_id), None)
        if index is not None:
            self.selectRow(index)
        return index is not None


def plan_line(summary: PlanSummary) -> str:
    plan = summary.plan
    return (f"{span(plan.start_date, plan.end_date)}\n{summary.items} "
            f"post{'' if summary.items == 1 else 's'}, {summary.approved} approved")


def span(first: date, last: date) -> str:
    """'23 to 29 Nov 2026' with an en dash, short enough for the narrow list of plans."""
    dash = "\u2013"
    if (first.year, first.month) == (last.year, last.month):
        return f"{first.day} {dash} {last.day} {last:%b %Y}"
    return f"{first.day} {first:%b} {dash} {last.day} {last:%b %Y}"
