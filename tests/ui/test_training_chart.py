"""The loss chart paints in the theme's colours and follows a theme switched while it shows."""
from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from studio.ui.models.training_data import LossPoint
from studio.ui.theme import apply_theme, chart_colours, dark_palette
from studio.ui.widgets.training_chart import LossChart


@pytest.fixture
def app() -> Iterator[QApplication]:
    made = QApplication.instance()
    assert isinstance(made, QApplication)
    yield made
    apply_theme(made, "light")  # what every other test expects


def test_the_chart_paints_in_the_dark_palette(qtbot: QtBot, app: QApplication) -> None:
    apply_theme(app, "dark")
    chart = LossChart()
    qtbot.addWidget(chart)
    chart.resize(600, 300)
    chart.add_points([LossPoint(step=s, loss=0.1 + 0.01 * (s % 5)) for s in range(1, 40)])
    chart.show()
    dark = chart_colours(dark_palette())
    assert chart.chart_.backgroundBrush().color() == dark.background
    assert chart.smooth.pen().color() == dark.smooth and chart.x_axis.labelsColor() == dark.text
    corner = chart.grab().toImage().pixelColor(3, 3)
    assert corner.lightness() < 60, f"the chart's background is light: {corner.name()}"

    apply_theme(app, "light")  # switched while it shows; Qt posts the palette change
    qtbot.waitUntil(lambda: chart.chart_.backgroundBrush().color().lightness() > 200)
    assert chart.grab().toImage().pixelColor(3, 3).lightness() > 200
