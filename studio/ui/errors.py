"""The one place where errors reach the user: one readable line, never a traceback."""
from __future__ import annotations

import logging
import sys
import threading
import traceback
from types import TracebackType

from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from studio.engine.disk_errors import disk_error
from studio.engine.errors import StudioError
from studio.ui.error_actions import WindowMessage, for_window, perform

TITLE = "InfluencerAI Studio"
log = logging.getLogger("studio.ui")
_OFFERS: dict[str, WindowMessage] = {}  # the line show_error is showing, with its button


def one_line(exc: BaseException) -> str:
    """What the user reads, in the window's words (no command to run; see error_actions)."""
    return window_message(exc).text


def window_message(exc: BaseException) -> WindowMessage:
    """The line and the button that helps with it ("Raise budget…", "Open Settings…")."""
    return for_window(engine_line(exc))


def engine_line(exc: BaseException) -> str:
    """The engine's own sentence, or a plain note for a bug."""
    if isinstance(exc, StudioError):
        text = str(exc).strip()
        return text.splitlines()[0] if text else type(exc).__name__
    disk = disk_error(exc)  # a read-only folder or a full disk is no bug: say which
    if disk is not None:
        return str(disk)
    first = (str(exc).strip().splitlines() or [""])[0]
    return f"Something went wrong ({type(exc).__name__}: {first}). Details are in the log folder."


def show_error(parent: QWidget | None, exc: BaseException) -> None:
    if not isinstance(exc, StudioError) and disk_error(exc) is None:
        log.error("error outside the engine's own", exc_info=(type(exc), exc, exc.__traceback__))
    message = window_message(exc)
    _OFFERS.clear()
    _OFFERS[message.text] = message
    _present(parent, message.text)


def _present(parent: QWidget | None, text: str) -> None:
    """Separate so that tests can see the message without a modal box."""
    offered = _OFFERS.pop(text, None)
    box = QMessageBox(QMessageBox.Icon.Warning, TITLE, text, QMessageBox.StandardButton.Ok, parent)
    helper = None
    if offered is not None and offered.action is not None:
        helper = box.addButton(offered.action.value, QMessageBox.ButtonRole.ActionRole)
    box.exec()
    if offered is not None and helper is not None and box.clickedButton() is helper and parent is not None:
        perform(offered, parent)


def install_excepthook() -> None:
    """A bug anywhere logs its traceback and shows one line; the app keeps running."""
    sys.excepthook = _excepthook
    threading.excepthook = _thread_excepthook


def _excepthook(kind: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
    log.error("uncaught exception: %s", "".join(traceback.format_exception(kind, exc, tb)))
    if QApplication.instance() is not None and threading.current_thread() is threading.main_thread():
        _present(QApplication.activeWindow(), one_line(exc))


def _thread_excepthook(args: threading.ExceptHookArgs) -> None:
    if args.exc_value is not None:
        log.error("uncaught exception in thread %s: %s", args.thread.name if args.thread else "?",
                  "".join(traceback.format_exception(args.exc_type, args.exc_value, args.exc_traceback)))
