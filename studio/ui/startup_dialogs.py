"""What the app says before its window opens: a damaged settings file it offers to reset (keeping
a copy), and a studio it cannot open (read-only or full data folder, damaged or newer database)."""
from __future__ import annotations

from PySide6.QtWidgets import QAbstractButton, QMessageBox, QWidget

from studio.engine.core import Studio
from studio.engine.settings_file import shown_lost
from studio.ui.errors import TITLE, one_line

RESET = "Reset settings"
KEEP = "Keep the file as it is"
# Long lines (paths, reasons) wrap less and read easier; the icon's label keeps its size.
WIDE = "QLabel#qt_msgbox_label, QLabel#qt_msgbox_informativelabel { min-width: 460px; }"


def settings_reset_box(studio: Studio, parent: QWidget | None = None) -> tuple[QMessageBox, QAbstractButton]:
    """The question, built apart from asking it so that tests and screenshots can see it."""
    file = studio.paths.settings_file
    box = QMessageBox(QMessageBox.Icon.Warning, TITLE, f"The settings file {file} is damaged.", parent=parent)
    box.setInformativeText(
        "\n".join(f"• {line}" for line in _findings(studio))
        + f"\n\n{RESET} writes the settings the studio uses now (what could be read, defaults for "
        f"the rest) and keeps a copy of the damaged file as {file.name}.broken-<time>.")
    box.setStyleSheet(WIDE)
    reset = box.addButton(RESET, QMessageBox.ButtonRole.AcceptRole)
    box.addButton(KEEP, QMessageBox.ButtonRole.RejectRole)
    box.setDefaultButton(reset)
    return box, reset


def _findings(studio: Studio) -> list[str]:
    read = studio.settings_read
    found = [f"It is not whole: {read.damage}."] if read.damage else []
    found += read.refused
    unread = [shown_lost(key) for key in read.lost if not any(r.startswith(f"{key} ") for r in read.refused)]
    if unread:
        found.append(f"Could not be read, at their defaults now: {', '.join(unread)}.")
    return found


def offer_settings_reset(studio: Studio, parent: QWidget | None = None) -> bool:
    """Asks when the settings file was damaged; True when the user reset it."""
    if not studio.settings_read.damaged:
        return False
    box, reset = settings_reset_box(studio, parent)
    box.exec()
    if box.clickedButton() is not reset:
        return False
    studio.save_settings()  # keeps the damaged file beside it first
    return True


def startup_failure_box(exc: BaseException, parent: QWidget | None = None) -> QMessageBox:
    box = QMessageBox(QMessageBox.Icon.Critical, TITLE, "The studio cannot start.", parent=parent)
    box.setInformativeText(one_line(exc))
    box.setStyleSheet(WIDE)
    box.setStandardButtons(QMessageBox.StandardButton.Close)
    return box


def show_startup_failure(exc: BaseException) -> None:
    startup_failure_box(exc).exec()
