"""Help → System check and About, opened from the real main window's menu."""
from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtGui import QGuiApplication

from studio.engine.core import Studio
from studio.engine.diagnostics import diagnostics_text
from studio.engine.doctor import Check
from studio.engine.logs import register_secret
from studio.ui.context import StudioContext
from studio.ui.main_window import MainWindow


@pytest.fixture
def window(qtbot, context: StudioContext) -> Iterator[MainWindow]:
    win = MainWindow(context)
    qtbot.addWidget(win)
    win.show()
    yield win


def test_system_check_lists_every_part_with_its_fix_and_copies_a_report(
        qtbot, studio: Studio, window: MainWindow) -> None:
    studio.settings.comfyui.url = "http://127.0.0.1:9"  # nothing listens: a finding, not a crash
    window.system_check_action.trigger()
    dialog = window.system_check_dialog
    with qtbot.waitSignal(dialog.checks_shown, timeout=60_000):
        pass
    labels = [dialog.table.item(row, 1).text() for row in range(dialog.table.rowCount())]
    assert labels == ["Python", "Qt", "GPU", "ComfyUI", "sd-scripts", "musubi-tuner", "FFmpeg", "Face identity",
                      "Secrets", "Database", "Disk", "Worker"]
    comfy = labels.index("ComfyUI")
    assert dialog.table.item(comfy, 0).text() != "● ok"
    assert dialog.table.item(comfy, 3).text()  # what to do about it
    assert "part(s) not found" in dialog.summary.text() or "problem(s)" in dialog.summary.text()
    dialog.copy_diagnostics()
    copied = QGuiApplication.clipboard().text()
    assert copied.startswith("InfluencerAI Studio ") and "System check:" in copied
    assert f"Data folder: {studio.paths.data_dir}" in copied and "ComfyUI:" in copied


def test_diagnostics_never_show_secrets_or_database_passwords(studio: Studio) -> None:
    register_secret("hunter2-token-value")
    studio.settings.database.url = "postgresql+psycopg://studio:pa55word@db.example:5432/studio"
    text = diagnostics_text(studio, [Check("comfyui", "ComfyUI", "problem",
                                           "token hunter2-token-value refused", "Check the key.")])
    assert "hunter2-token-value" not in text and "pa55word" not in text
    assert "Database: postgresql at db.example" in text
    assert "[PROBLEM] ComfyUI:" in text and "fix: Check the key." in text


def test_about_names_the_version_folders_and_ffmpegs_own_licence(qtbot, studio: Studio,
                                                                  window: MainWindow) -> None:
    from studio import __version__
    window.menuBar().actions()[-1].menu().actions()[-1].trigger()  # Help → About
    dialog = window.about_dialog
    assert f"InfluencerAI Studio {__version__}" in dialog.body.text()
    assert str(studio.paths.logs_dir) in dialog.body.text()
    with qtbot.waitSignal(dialog.licence_shown, timeout=30_000):
        pass
    assert "GNU LGPL v3" in dialog.licences.text()
    assert "(as `ffmpeg -L` states)" in dialog.licences.text()
