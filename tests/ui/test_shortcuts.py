"""Keyboard shortcuts from the one table: the main window's page keys, Ctrl+Enter in Generate
(against the fake ComfyUI the Generate tests use) and Help → Keyboard shortcuts, which lists
every entry of the table. The Video and Gallery keys are tested with those views."""
from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence

from studio.engine.core import Studio
from studio.engine.db.models import Influencer
from studio.ui.context import StudioContext
from studio.ui.main_window import PAGES, MainWindow
from studio.ui.shortcuts import BY_ACTION, PAGE_TITLES, SHORTCUTS
from studio.ui.widgets.shortcuts_dialog import ShortcutsDialog
from tests.fakes.comfyui_server import FakeComfyUI
from tests.ui.helpers import open_page


@pytest.fixture
def window(qtbot, context: StudioContext) -> Iterator[MainWindow]:
    win = MainWindow(context)
    qtbot.addWidget(win)
    win.show()
    win.activateWindow()
    qtbot.waitActive(win)
    yield win


def test_the_table_names_the_sidebar_pages_in_order() -> None:
    assert tuple(title for _, title in PAGES) == PAGE_TITLES
    assert len(BY_ACTION) == len(SHORTCUTS)  # no action named twice
    assert all(not QKeySequence(key).isEmpty() for s in SHORTCUTS for key in s.keys)


def test_ctrl_and_a_number_shows_that_page(qtbot, window: MainWindow) -> None:
    qtbot.keyClick(window.sidebar, Qt.Key.Key_3, Qt.KeyboardModifier.ControlModifier)
    assert window.current_page_key() == "training"
    assert window.stack.currentWidget() is window.pages["training"]
    qtbot.keyClick(window.sidebar, Qt.Key.Key_8, Qt.KeyboardModifier.ControlModifier)
    assert window.current_page_key() == "settings"
    qtbot.keySequence(window.sidebar, QKeySequence("Ctrl+1"))
    assert window.current_page_key() == "influencers"


def test_help_lists_every_shortcut_and_searches_them(qtbot, window: MainWindow) -> None:
    window.shortcuts_action.trigger()
    dialog = window.shortcuts_dialog
    qtbot.waitExposed(dialog)
    rows = dialog.shown_rows()
    assert len(rows) == len(SHORTCUTS)
    for shortcut, (keys, where, what) in zip(SHORTCUTS, rows, strict=True):
        assert (keys, where, what) == (shortcut.label(), shortcut.where, shortcut.description)
    assert ("Space", "Video", BY_ACTION["video.play-pause"].description) in rows
    qtbot.keyClicks(dialog.search, "gallery rat")
    shown = dialog.shown_rows()
    assert {where for _, where, _ in shown} == {"Gallery"} and len(shown) == 6  # 1–5 and 0
    dialog.search.clear()
    assert len(dialog.shown_rows()) == len(SHORTCUTS)


def test_the_dialog_is_read_only(qtbot) -> None:
    dialog = ShortcutsDialog()
    qtbot.addWidget(dialog)
    assert dialog.table.editTriggers() == dialog.table.EditTrigger.NoEditTriggers


def test_ctrl_enter_queues_in_generate_as_the_button_does(qtbot, studio: Studio,
                                                          context: StudioContext,
                                                          fake: FakeComfyUI, mira: Influencer) -> None:
    page = open_page(qtbot, context)
    qtbot.waitUntil(lambda: page.influencer_box.count() == 2 and page.generate_button.isEnabled())
    page.activateWindow()
    qtbot.waitActive(page)
    page.prompt.setFocus()
    with qtbot.waitSignal(page.jobs_submitted, timeout=10_000) as submitted:
        qtbot.keyClick(page.prompt, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    [job_id] = submitted.args[0]
    job = studio.jobs.get(context.workspace_id, job_id)
    assert job.payload["values"]["positive"] == page.prompt.toPlainText()
    assert page.prompt.toPlainText().count("\n") == 0  # the key queued; it typed no new line
    # The keypad's Enter too; and nothing while the button is off (a submit under way).
    qtbot.waitUntil(page.generate_button.isEnabled)
    page.generate_button.setEnabled(False)
    with qtbot.assertNotEmitted(page.generate_button.clicked):  # clicked comes at once, or never
        qtbot.keyClick(page.prompt, Qt.Key.Key_Enter,
                       Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.KeypadModifier)
    page.generate_button.setEnabled(True)
    with qtbot.waitSignal(page.jobs_submitted, timeout=10_000):
        qtbot.keyClick(page.prompt, Qt.Key.Key_Enter,
                       Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.KeypadModifier)
