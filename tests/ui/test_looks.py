"""Looks at 1280×720 in both themes: on the Generate, Training, Video, Plans and Settings pages
nothing scrolls sideways and the main buttons lie inside the window."""
from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import QPoint, QRect
from PySide6.QtWidgets import (
    QAbstractScrollArea,
    QApplication,
    QCheckBox,
    QLabel,
    QScrollArea,
    QStyle,
    QStyleOptionButton,
    QWidget,
)
from pytestqt.qtbot import QtBot

from studio.engine.core import Studio
from studio.engine.db.models import Influencer
from studio.ui.context import StudioContext
from studio.ui.main_window import MainWindow
from studio.ui.pages.generate import GeneratePage
from studio.ui.pages.settings import GROUPS, SettingsPage
from studio.ui.pages.training import TrainingPage
from studio.ui.theme import apply_theme
from studio.ui.theme_style import TONES, show_in_tone
from tests.fakes.comfyui_server import FakeComfyUI

SIZE = (1280, 720)
# Names as real model folders have them: long, in subfolders.
LONG_NAMES = ["SDXL/photoreal/juggernautXL_v9Rundiffusionphoto2_lightning4steps.safetensors",
              "SD15/realisticVisionV60B1_v51HyperVAE_inpainting-fp16.safetensors"]
# Each page's main action buttons, by object name or attribute path from the page.
BUTTONS = {
    "generate": ("generate_button", "comfy_button", "add_workflow_button", "edit_workflow_button"),
    "training": ("form.start_button",),
    "video": ("open_button", "export_button", "gallery_button"),
    "plans": ("generate_button", "spend_button"),
    "settings": ("save_button", "revert_button", "defaults_button"),
    "datasets": ("new_button", "import_button", "batch_button", "autocaption_button"),
    "influencers": ("new_button", "save_button", "delete_button", "portrait_button"),
}


@pytest.fixture
def comfy(studio: Studio) -> Iterator[FakeComfyUI]:
    with FakeComfyUI(checkpoints=LONG_NAMES, loras=["mira/mira_v1-lisbon-shoot-v3-000040.safetensors",
                                                   *LONG_NAMES]) as server:
        studio.settings.comfyui.url = server.base_url
        yield server


@pytest.fixture(params=["light", "dark"])
def window(request: pytest.FixtureRequest, qtbot: QtBot, context: StudioContext, comfy: FakeComfyUI,
           mira: Influencer) -> Iterator[MainWindow]:
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    apply_theme(app, request.param)
    made = MainWindow(context)
    qtbot.addWidget(made)
    made.resize(*SIZE)
    made.show()
    yield made
    apply_theme(app, "light")


def _attribute(page: QWidget, path: str) -> QWidget:
    found: object = page
    for name in path.split("."):
        found = getattr(found, name)
    assert isinstance(found, QWidget), path
    return found


def _sideways(page: QWidget) -> list[str]:
    """The scroll areas in ``page`` that show a horizontal scroll bar."""
    return [f"{type(area).__name__} {area.objectName() or ''} in {type(area.parent()).__name__}"
            for area in page.findChildren(QAbstractScrollArea)
            if area.isVisibleTo(page) and area.horizontalScrollBar().isVisible()]


def test_no_workflow_makes_generate_scroll_sideways(qtbot: QtBot, window: MainWindow) -> None:
    window.show_page("generate")
    page = window.pages["generate"]
    assert isinstance(page, GeneratePage)
    qtbot.waitUntil(lambda: len(page.form.options("sampler")) > 10 and page.template_box.count() > 1)
    for index in range(page.template_box.count()):
        page.template_box.setCurrentIndex(index)
        page.template_box.activated.emit(index)
        QApplication.processEvents()
        assert _sideways(page) == [], page.template_box.itemText(index)


@pytest.mark.parametrize("key", list(BUTTONS))
def test_nothing_scrolls_sideways_and_the_buttons_are_in_the_window(
        qtbot: QtBot, window: MainWindow, key: str) -> None:
    window.show_page(key)
    page = window.pages[key]
    qtbot.waitUntil(page.isVisible)
    QApplication.processEvents()
    assert window.size().width() == SIZE[0] and window.height() <= SIZE[1]
    assert _sideways(page) == []
    inside = QRect(QPoint(0, 0), window.size())
    for path in BUTTONS[key]:
        button = _attribute(page, path)
        top_left = button.mapTo(window, QPoint(0, 0))
        assert inside.contains(QRect(top_left, button.size())), f"{key}: {path} at {top_left}"
        assert button.visibleRegion().boundingRect().size() == button.size(), f"{key}: {path} is cut"


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_a_check_box_shows_its_box_in_either_theme(qtbot: QtBot, theme: str) -> None:
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    apply_theme(app, theme)
    box = QCheckBox("Lock seed")
    qtbot.addWidget(box)
    box.show()
    option = QStyleOptionButton()
    box.initStyleOption(option)
    indicator = box.style().subElementRect(QStyle.SubElement.SE_CheckBoxIndicator, option, box)
    picture = box.grab().toImage()
    inside = picture.pixelColor(indicator.center()).lightness()
    edge = max(abs(picture.pixelColor(indicator.left() + dx, indicator.center().y()).lightness() - inside)
               for dx in range(3))
    apply_theme(app, "light")
    assert edge > 60, f"the box's outline differs from its inside by only {edge}"


def test_no_settings_group_scrolls_sideways(qtbot: QtBot, window: MainWindow) -> None:
    window.show_page("settings")
    page = window.pages["settings"]
    assert isinstance(page, SettingsPage)
    for title in GROUPS:
        page.show_group(title)
        QApplication.processEvents()
        assert _sideways(page) == [], title


def test_the_training_monitor_fits_a_1080_pixel_window(qtbot: QtBot, window: MainWindow) -> None:
    window.resize(1920, 1080)
    window.show_page("training")
    page = window.pages["training"]
    assert isinstance(page, TrainingPage)
    page.monitor.headline.setText("mira-v1 — failed: " + "the header of the base model is not valid. " * 4)
    QApplication.processEvents()
    areas = [area for area in page.findChildren(QScrollArea) if area.isAncestorOf(page.monitor)]
    assert areas and areas[0].verticalScrollBar().maximum() == 0


def test_an_error_line_follows_the_theme(qtbot: QtBot) -> None:
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    apply_theme(app, "light")
    form = QWidget()
    qtbot.addWidget(form)
    line = QLabel("The seed must be a whole number.", form)
    show_in_tone(line, "error")
    assert TONES["error"][0] in line.styleSheet()
    apply_theme(app, "dark")
    try:  # the label hears of the new palette through the event loop
        qtbot.waitUntil(lambda: TONES["error"][1] in line.styleSheet())  # readable on dark
        show_in_tone(line, "warning")
        assert TONES["warning"][1] in line.styleSheet()
    finally:
        apply_theme(app, "light")
    qtbot.waitUntil(lambda: TONES["warning"][0] in line.styleSheet())
