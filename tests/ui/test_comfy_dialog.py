"""The ComfyUI dialog with a supervised stand-in ComfyUI that a real worker starts and stops."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from studio.engine.core import Studio
from studio.ui.context import StudioContext
from studio.ui.pages.generate import GeneratePage
from tests.engine.comfyui.helpers import comfy_folder
from tests.servers import free_port

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="process groups are POSIX here")


def test_start_and_stop_the_local_comfyui_through_the_worker_and_see_its_log(
        qtbot, tmp_path: Path, studio: Studio, context: StudioContext, worker_factory) -> None:
    studio.settings.comfyui.folder = str(comfy_folder(tmp_path))
    studio.settings.comfyui.port = free_port()
    studio.save_settings()
    worker = worker_factory()  # reads the settings just saved
    page = GeneratePage(context)
    qtbot.addWidget(page)
    page.show()
    qtbot.waitUntil(page.comfy_line.isVisible, timeout=15_000)  # not started yet

    qtbot.mouseClick(page.comfy_button, Qt.MouseButton.LeftButton)
    dialog = page.comfy_dialog
    qtbot.waitUntil(lambda: dialog.state is not None, timeout=10_000)
    assert not dialog.state.answers and dialog.state.supervised
    assert "does not answer" in dialog.where.text()
    assert dialog.start_button.isEnabled() and not dialog.stop_button.isEnabled()

    with qtbot.waitSignal(dialog.action_finished, timeout=60_000) as started:
        qtbot.mouseClick(dialog.start_button, Qt.MouseButton.LeftButton)
    assert started.args == ["ComfyUI answers."]
    qtbot.waitUntil(dialog.stop_button.isEnabled, timeout=10_000)
    assert f"Local ComfyUI at http://127.0.0.1:{studio.settings.comfyui.port} answers" in dialog.where.text()
    qtbot.waitUntil(lambda: "starting ComfyUI" in dialog.log_view.toPlainText(), timeout=10_000)
    qtbot.waitUntil(lambda: not page.comfy_line.isVisible(), timeout=15_000)  # pickers filled now

    with qtbot.waitSignal(dialog.action_finished, timeout=60_000) as stopped:
        qtbot.mouseClick(dialog.stop_button, Qt.MouseButton.LeftButton)
    assert stopped.args == ["ComfyUI stopped."]
    qtbot.waitUntil(dialog.start_button.isEnabled, timeout=10_000)
    assert "ComfyUI stopped (code" in dialog.log_view.toPlainText()
    dialog.close()
    assert worker.stop() == 0


def test_without_a_folder_it_only_says_where_comfyui_is(qtbot, studio: Studio,
                                                        context: StudioContext) -> None:
    studio.settings.comfyui.url = "http://127.0.0.1:9"
    page = GeneratePage(context)
    qtbot.addWidget(page)
    qtbot.mouseClick(page.comfy_button, Qt.MouseButton.LeftButton)
    dialog = page.comfy_dialog
    qtbot.waitUntil(lambda: dialog.state is not None, timeout=10_000)
    assert dialog.where.text() == ("ComfyUI at http://127.0.0.1:9 does not answer. Set a ComfyUI "
                                   "folder in Settings to have the studio start and stop it.")
    assert not dialog.start_button.isEnabled() and not dialog.stop_button.isEnabled()
    dialog.close()
