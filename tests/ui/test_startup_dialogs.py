"""Before the window: a damaged settings file is offered a reset (a copy is kept), and a studio
that cannot open says why in a dialog. Real files, real dialogs (drawn offscreen)."""
from __future__ import annotations

import errno
from pathlib import Path

import pytest
from PySide6.QtWidgets import QMessageBox

from studio.engine.core import Studio
from studio.ui import app as app_module
from studio.ui import startup_dialogs
from studio.ui.errors import one_line
from studio.ui.startup_dialogs import RESET, offer_settings_reset, settings_reset_box, startup_failure_box
from tests.engine.db.damage import make_newer

DAMAGED = b'[comfyui]\nurl = "http://gpu-box:8188"\nport = 0\n[ui]\ntheme = "da'


def damaged_studio(data_dir: Path) -> Studio:
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / "settings.toml").write_bytes(DAMAGED)
    return Studio.open(data_dir)


def answer(monkeypatch: pytest.MonkeyPatch, text: str) -> list[str]:
    """QMessageBox.exec clicks the button named ``text`` instead of waiting for a person."""
    asked: list[str] = []

    def click(box: QMessageBox) -> int:
        asked.append(box.text())
        next(b for b in box.buttons() if b.text() == text).click()
        return 0

    monkeypatch.setattr(QMessageBox, "exec", click)
    return asked


def test_the_reset_question_names_the_damage(qtbot, data_dir: Path, tmp_path: Path) -> None:
    studio = damaged_studio(data_dir)
    box, reset = settings_reset_box(studio)
    qtbot.addWidget(box)
    assert box.text() == f"The settings file {studio.paths.settings_file} is damaged."
    details = box.informativeText()
    assert "comfyui.port must be at least 1" in details and "settings.toml.broken-<time>" in details
    assert reset.text() == RESET and box.defaultButton() is reset
    box.show()
    assert box.grab().save(str(tmp_path / "settings-reset.png"))
    studio.close()


def test_reset_writes_the_settings_in_use_and_keeps_a_copy(qtbot, monkeypatch, data_dir: Path) -> None:
    studio = damaged_studio(data_dir)
    asked = answer(monkeypatch, RESET)
    assert offer_settings_reset(studio) is True and len(asked) == 1
    copies = list(data_dir.glob("settings.toml.broken-*"))
    assert len(copies) == 1 and copies[0].read_bytes() == DAMAGED
    again = Studio.open(data_dir)
    assert not again.settings_read.damaged and again.settings.comfyui.url == "http://gpu-box:8188"
    assert offer_settings_reset(again) is False and len(asked) == 1  # nothing asked once repaired
    studio.close()
    again.close()


def test_keep_leaves_the_file_alone(qtbot, monkeypatch, data_dir: Path) -> None:
    studio = damaged_studio(data_dir)
    answer(monkeypatch, startup_dialogs.KEEP)
    assert offer_settings_reset(studio) is False
    assert (data_dir / "settings.toml").read_bytes() == DAMAGED
    assert not list(data_dir.glob("settings.toml.broken-*"))
    studio.close()


def test_a_newer_database_stops_the_app_with_a_dialog(qtbot, monkeypatch, studio: Studio,
                                                      tmp_path: Path) -> None:
    studio.workspace()
    studio.close()
    make_newer(studio.paths.database_file, "0077_newer")
    shown: list[str] = []
    monkeypatch.setattr(app_module, "show_startup_failure", lambda exc: shown.append(one_line(exc)))
    assert app_module.run_app(str(studio.paths.data_dir)) == 1
    assert shown == [f"The database {studio.paths.database_file} was made by a newer version of the "
                     "studio (revision 0077_newer); update the studio to open it."]
    box = startup_failure_box(RuntimeError("x"))
    qtbot.addWidget(box)
    box.setInformativeText(shown[0])
    box.show()
    assert box.grab().save(str(tmp_path / "startup-failure.png"))


def test_a_full_disk_outside_the_engine_is_still_one_plain_line(tmp_path: Path) -> None:
    exc = OSError(errno.ENOSPC, "No space left on device", str(tmp_path / "export.mp4"))
    assert one_line(exc).startswith(f"The disk holding {tmp_path} is full: ")
