"""Errors reach the user as one line; tracebacks go to the log only."""
from __future__ import annotations

import logging
import sys
import threading

from studio.engine.errors import InvalidInput
from studio.ui import errors


def test_engine_errors_are_shown_as_their_own_sentence(shown_errors: list[str]) -> None:
    errors.show_error(None, InvalidInput("A workspace needs a name.\nsecond line"))
    assert shown_errors == ["A workspace needs a name."]


def test_a_bug_is_one_line_and_its_traceback_is_logged(shown_errors: list[str], caplog) -> None:
    try:
        {}["missing"]
    except KeyError as exc:
        with caplog.at_level(logging.ERROR, logger="studio.ui"):
            errors.show_error(None, exc)
    assert len(shown_errors) == 1 and "\n" not in shown_errors[0]
    assert "KeyError" in shown_errors[0] and "log folder" in shown_errors[0]
    assert "Traceback" in caplog.text


def test_the_excepthook_logs_and_shows_one_line(monkeypatch, shown_errors: list[str], caplog) -> None:
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)  # both restored after the test
    monkeypatch.setattr(threading, "excepthook", threading.excepthook)
    errors.install_excepthook()
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        with caplog.at_level(logging.ERROR, logger="studio.ui"):
            sys.excepthook(*sys.exc_info())
    assert shown_errors and shown_errors[0].startswith("Something went wrong (RuntimeError: boom)")
    assert "Traceback" in caplog.text and 'raise RuntimeError("boom")' in caplog.text
