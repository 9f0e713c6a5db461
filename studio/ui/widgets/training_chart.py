"""The live loss chart: sd-scripts' reported loss (raw) and an exponential moving average, and
on a second axis (0–1, right) the identity of each sampling step's samples (their median score).

QtCharts ships with PySide6, so the chart needs no extra dependency; appending points to a
QLineSeries is cheap, and the axes follow the data. Its colours come from the palette
(``theme.chart_colours``) and follow a theme switched while it shows.
"""
from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCharts import QChart, QChartView, QLineSeries, QValueAxis
from PySide6.QtCore import QEvent, QMargins, QPointF, Qt
from PySide6.QtGui import QBrush, QColor, QPainter, QPen
from PySide6.QtWidgets import QWidget

from studio.ui.models.training_data import IdentityPoint, LossPoint
from studio.ui.theme import chart_colours
from studio.ui.theme_style import tone

SMOOTHING = 0.9  # weight of the previous average: TensorBoard's usual default


class LossChart(QChartView):
    def __init__(self, parent: QWidget | None = None) -> None:
        self.chart_ = QChart()
        super().__init__(self.chart_, parent)
        self.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.setMinimumHeight(180)  # with the identity line under it, as tall as the chart once was
        self.raw = QLineSeries()
        self.raw.setName("loss (raw)")
        self.smooth = QLineSeries()
        self.smooth.setName("loss (smoothed)")
        self.x_axis = QValueAxis()
        self.x_axis.setTitleText("step")
        self.x_axis.setLabelFormat("%d")
        self.y_axis = QValueAxis()
        self.y_axis.setLabelFormat("%.3f")
        self._build_identity()
        chart = self.chart_
        chart.setMargins(QMargins(4, 4, 4, 4))
        chart.legend().setAlignment(Qt.AlignmentFlag.AlignBottom)
        for series in (self.raw, self.smooth, self.identity):
            chart.addSeries(series)
        chart.addAxis(self.x_axis, Qt.AlignmentFlag.AlignBottom)
        chart.addAxis(self.y_axis, Qt.AlignmentFlag.AlignLeft)
        chart.addAxis(self.identity_axis, Qt.AlignmentFlag.AlignRight)
        for series in (self.raw, self.smooth):
            series.attachAxis(self.x_axis)
            series.attachAxis(self.y_axis)
        self.identity.attachAxis(self.x_axis)
        self.identity.attachAxis(self.identity_axis)
        self._average: float | None = None
        self._count = 0
        self._low = float("inf")
        self._high = float("-inf")
        self._last_step = 0
        self.apply_palette()
        self.clear()

    def _build_identity(self) -> None:
        self.identity = QLineSeries()
        self.identity.setName("identity (0–1, right)")  # short: a long legend squeezes the plot
        self.identity.setPointsVisible(True)  # samples come every few hundred steps: show each
        self.identity_axis = QValueAxis()
        self.identity_axis.setRange(0, 1)
        self.identity_axis.setLabelFormat("%.2f")  # no title: the legend names it, and a title
        # needs more height than the chart has in a 720 px window (the axes' labels were elided)

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            self.apply_palette()

    def apply_palette(self) -> None:
        """Background, text, grid and series in the palette's colours, light or dark."""
        colours = chart_colours(self.palette())
        chart = self.chart_
        chart.setBackgroundBrush(QBrush(colours.background))
        chart.setTitleBrush(QBrush(colours.text))
        chart.legend().setLabelColor(colours.text)
        self.setBackgroundBrush(QBrush(colours.background))
        for axis in (self.x_axis, self.y_axis, self.identity_axis):
            axis.setLabelsColor(colours.text)
            axis.setTitleBrush(QBrush(colours.text))
            axis.setLinePenColor(colours.grid)
            axis.setGridLineColor(colours.grid)
        self.raw.setPen(QPen(colours.raw, 1))
        self.smooth.setPen(QPen(colours.smooth, 2))
        self.identity_axis.setGridLineVisible(False)  # the loss's grid is the one to read
        identity = QColor(tone("ok", self.palette()))
        self.identity.setPen(QPen(identity, 2))
        self.identity.setBrush(QBrush(identity))

    def clear(self) -> None:
        self.raw.clear()
        self.smooth.clear()
        self.identity.clear()
        self._average = None
        self._count = 0
        self._low, self._high, self._last_step = float("inf"), float("-inf"), 0
        self.x_axis.setRange(0, 10)
        self.y_axis.setRange(0, 0.2)
        self.chart_.setTitle("Loss")

    def add_points(self, points: Sequence[LossPoint]) -> None:
        if not points:
            return
        raw, smooth = [], []
        for point in points:
            if point.step <= self._last_step:
                continue  # a resumed run repeats no step; anything older is already drawn
            self._last_step = point.step
            # An average started at zero and divided by its weight so far (TensorBoard's
            # debiasing): the first points are not dragged towards the very first loss.
            self._count += 1
            self._average = SMOOTHING * (self._average or 0.0) + (1 - SMOOTHING) * point.loss
            raw.append((point.step, point.loss))
            smooth.append((point.step, self._average / (1 - SMOOTHING ** self._count)))
            self._low, self._high = min(self._low, point.loss), max(self._high, point.loss)
        if not raw:
            return
        self.raw.append([QPointF(x, y) for x, y in raw])
        self.smooth.append([QPointF(x, y) for x, y in smooth])
        span = max(self._high - self._low, 1e-4)
        self.x_axis.setRange(0, max(10, self._last_step))
        self.y_axis.setRange(max(0.0, self._low - span * 0.1), self._high + span * 0.1)
        self.chart_.setTitle(f"Loss · step {self._last_step} · smoothed {smooth[-1][1]:.4f}")

    def show_identity(self, points: Sequence[IdentityPoint]) -> None:
        """The whole identity series (a step's median changes as its samples are scored)."""
        self.identity.replace([QPointF(p.step, p.median) for p in points])
        if points:
            self.x_axis.setRange(0, max(10, self._last_step, points[-1].step))

    def identity_points(self) -> list[tuple[float, float]]:
        return [(p.x(), p.y()) for p in self.identity.points()]

    def point_count(self) -> int:
        return self.raw.count()

