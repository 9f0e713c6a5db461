"""This month's LLM spending: a chart of cost per day (stacked by model), tables per model and
per influencer, and the workspace's monthly budget, which can be changed here.

Read again whenever the live state reports new spending or a changed budget (from this window,
the worker or the command line); a budget being typed here is left as it is."""
from __future__ import annotations

import calendar
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

from PySide6.QtCharts import QBarCategoryAxis, QBarSet, QChart, QChartView, QStackedBarSeries, QValueAxis
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFontMetrics, QPainter
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDoubleSpinBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from studio.engine.db.changes import ChangeSet, Entity
from studio.engine.llm.budget import (
    BudgetStatus,
    SpendRow,
    budget_status,
    daily_by_model,
    month_bounds,
    set_budget,
    spend_by,
    today_utc,
)
from studio.ui.context import StudioContext
from studio.ui.errors import show_error
from studio.ui.tasks import run_in_background

TABLE_COLUMNS = ("calls", "cached", "tokens in", "tokens out", "cost")
LABEL_ROOM = 14  # pixels beside a day's number: Qt elides a category label without that room
CHART_MARGIN = 150  # the value axis, its labels and the chart's own margins


def day_labels(first: date, days: int) -> list[str]:
    """One label per day shown, its number (the month is the axis title): short enough that
    every day keeps its label, and distinct, as a category axis needs."""
    return [str(first.day + offset) for offset in range(days)]


def day_width(metrics: QFontMetrics) -> int:
    """The pixels a day needs on the chart for its number to be shown whole."""
    return metrics.horizontalAdvance("31") + LABEL_ROOM


def open_spend_dialog(context: StudioContext, parent: QWidget, *, on_closed: Callable[[], None]) -> SpendDialog:
    dialog = SpendDialog(context, parent)
    dialog.finished.connect(lambda _: on_closed())
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.open()
    return dialog


@dataclass(frozen=True, slots=True)
class Spending:
    status: BudgetStatus
    daily: list[tuple[date, str, float]]
    by_model: list[SpendRow]
    by_influencer: list[SpendRow]


def load_spending(context: StudioContext) -> Spending:
    """Blocking; runs on the database lane."""
    db, workspace_id = context.studio.db, context.workspace_id
    return Spending(budget_status(db, workspace_id), daily_by_model(db, workspace_id),
                    spend_by(db, workspace_id, "model"), spend_by(db, workspace_id, "influencer"))


class SpendDialog(QDialog):
    loaded = Signal(object)  # Spending

    def __init__(self, context: StudioContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.setWindowTitle("LLM spending")
        self.resize(820, 620)
        self._build()
        self._shown_budget = self._budget_in_fields()  # what the fields were last set to
        context.live.changed.connect(self._on_changed)
        self.refresh()

    def _build(self) -> None:
        self.summary = QLabel(self)
        self.summary.setWordWrap(True)
        self.chart = QChart()
        self.view = QChartView(self.chart, self)
        self.view.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.view.setMinimumHeight(260)
        self.models = _table(self, "model")
        self.influencers = _table(self, "influencer")
        self.budget = QDoubleSpinBox(self)
        self.budget.setRange(0.0, 100_000.0)
        self.budget.setDecimals(4)  # a $0.025 budget stays $0.025, not $0.03
        self.budget.setPrefix("$ ")
        self.no_limit = QCheckBox("No limit", self)
        self.no_limit.toggled.connect(self.budget.setDisabled)
        self.set_button = QPushButton("Set monthly budget", self)
        self.set_button.clicked.connect(self._on_set_clicked)
        budget_row = QHBoxLayout()
        for widget in (QLabel("Monthly budget", self), self.budget, self.no_limit, self.set_button):
            budget_row.addWidget(widget)
        budget_row.addStretch(1)
        tables = QHBoxLayout()
        tables.addWidget(self.models)
        tables.addWidget(self.influencers)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addLayout(budget_row)
        layout.addWidget(self.view, 1)
        layout.addLayout(tables)

    def _on_changed(self, changes: ChangeSet) -> None:
        if changes.touches(Entity.SPEND, Entity.WORKSPACE, workspace_id=self.context.workspace_id):
            self.refresh()

    def refresh(self) -> None:
        context = self.context
        run_in_background(lambda: load_spending(context), receiver=self, on_done=self.show_spending,
                          on_error=lambda exc: show_error(self, exc))

    def show_spending(self, spending: Spending) -> None:
        status = spending.status
        self.summary.setText(status.line)
        if self._budget_in_fields() == self._shown_budget:  # not being edited here
            self.no_limit.setChecked(status.budget_usd is None)
            self.budget.setValue(status.budget_usd or 0.0)
            self._shown_budget = self._budget_in_fields()
        self._draw(spending.daily)
        _fill(self.models, spending.by_model)
        _fill(self.influencers, spending.by_influencer)
        self.loaded.emit(spending)

    def _draw(self, daily: Sequence[tuple[date, str, float]]) -> None:
        # A new chart each time: removing a bar chart's category axes leaves their labels behind.
        self.chart = QChart()
        self.chart.setTitle("Cost per day (USD)")
        if self.palette().window().color().lightness() < 128:
            self.chart.setTheme(QChart.ChartTheme.ChartThemeDark)
        self.chart.legend().setAlignment(Qt.AlignmentFlag.AlignBottom)
        first, _ = month_bounds(today_utc())
        days = calendar.monthrange(first.year, first.month)[1]
        series = QStackedBarSeries()
        for model in sorted({m for _, m, _ in daily}):
            bars = QBarSet(model)
            per_day = {d.day: c for d, m, c in daily if m == model}
            bars.append([per_day.get(day, 0.0) for day in range(1, days + 1)])
            series.append(bars)
        self.chart.addSeries(series)
        x_axis = QBarCategoryAxis()
        x_axis.append(day_labels(first, days))
        x_axis.setTitleText(f"{first:%B %Y}")
        self.view.setMinimumWidth(days * day_width(QFontMetrics(x_axis.labelsFont())) + CHART_MARGIN)
        y_axis = QValueAxis()
        totals = [sum(c for d, _, c in daily if d.day == day) for day in range(1, days + 1)]
        y_axis.setRange(0.0, max([*totals, 0.01]) * 1.1)  # a cent at least: distinct tick labels
        y_axis.setLabelFormat("%.4f")
        self.chart.addAxis(x_axis, Qt.AlignmentFlag.AlignBottom)
        self.chart.addAxis(y_axis, Qt.AlignmentFlag.AlignLeft)
        series.attachAxis(x_axis)
        series.attachAxis(y_axis)
        self.view.setChart(self.chart)

    def _budget_in_fields(self) -> float | None:
        return None if self.no_limit.isChecked() else self.budget.value()

    def _on_set_clicked(self) -> None:
        db, workspace_id = self.context.studio.db, self.context.workspace_id
        usd = self._shown_budget = self._budget_in_fields()  # the live change shows it
        run_in_background(lambda: set_budget(db, workspace_id, usd), receiver=self,
                          on_error=lambda exc: show_error(self, exc))


def _table(parent: QWidget, what: str) -> QTableWidget:
    table = QTableWidget(0, len(TABLE_COLUMNS) + 1, parent)
    table.setObjectName(f"spend-by-{what}")
    table.setHorizontalHeaderLabels([what, *TABLE_COLUMNS])
    table.verticalHeader().hide()
    table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
    header = table.horizontalHeader()  # the names get the width, the counts their own
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
    return table


def _fill(table: QTableWidget, rows: Sequence[SpendRow]) -> None:
    table.setRowCount(len(rows))
    for index, row in enumerate(rows):
        values = (row.key or "(none)", str(row.calls), str(row.cached_calls), str(row.prompt_tokens),
                  str(row.completion_tokens), f"${row.cost_usd:.4f}")
        for column, value in enumerate(values):
            table.setItem(index, column, QTableWidgetItem(value))
