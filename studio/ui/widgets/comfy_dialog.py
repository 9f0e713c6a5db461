"""ComfyUI at a glance: where it is, whether it answers, start/stop the local one, and its log.

The worker runs the local ComfyUI (it starts it for jobs and stops it when it stops); Start and
Stop ask it to. While the dialog is open it follows ComfyUI's log file and whether ComfyUI
answers, once a second in the background (the "log-follow" timer): neither is studio data or a
job, so the live state and the job hub cannot report them.
"""
from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Signal
from PySide6.QtGui import QFontDatabase, QTextCursor
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from studio.engine.comfyui.local import ComfyState
from studio.ui.errors import one_line
from studio.ui.tasks import run_in_background
from studio.ui.timers import repeating_timer

REFRESH_MS = 1000
TIMER_NAME = "log-follow"


class ComfyDialog(QDialog):
    state_shown = Signal(object)  # ComfyState
    action_finished = Signal(str)  # what the worker answered, in a line

    def __init__(self, read_state: Callable[[], ComfyState], start: Callable[[], None],
                 stop: Callable[[], None], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("ComfyUI")
        self.setObjectName("comfy-dialog")
        self.resize(760, 480)
        self._read_state, self._start, self._stop = read_state, start, stop
        self._busy = False
        self._reading = False
        self.state: ComfyState | None = None
        self._build()
        self.start_button.clicked.connect(lambda: self._act(self._start, "ComfyUI answers."))
        self.stop_button.clicked.connect(lambda: self._act(self._stop, "ComfyUI stopped."))
        self.timer = repeating_timer(self, name=TIMER_NAME, interval_ms=REFRESH_MS)
        self.timer.timeout.connect(self.refresh)
        self.timer.start()
        self.refresh()

    def _build(self) -> None:
        self.where = QLabel("Checking…", self)
        self.where.setObjectName("comfy-where")
        self.where.setWordWrap(True)
        self.start_button = QPushButton("Start", self)
        self.start_button.setObjectName("comfy-start")
        self.stop_button = QPushButton("Stop", self)
        self.stop_button.setObjectName("comfy-stop")
        for button in (self.start_button, self.stop_button):
            button.setEnabled(False)
        self.note = QLabel(self)
        self.note.setObjectName("comfy-note")
        self.note.setWordWrap(True)
        self.log_view = QPlainTextEdit(self)
        self.log_view.setObjectName("comfy-log")
        self.log_view.setReadOnly(True)
        self.log_view.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.log_view.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.log_view.setPlaceholderText("The log of a ComfyUI the studio starts appears here.")
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        close.rejected.connect(self.reject)

        top = QHBoxLayout()
        top.addWidget(self.where, 1)
        top.addWidget(self.start_button)
        top.addWidget(self.stop_button)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.note)
        layout.addWidget(self.log_view, 1)
        layout.addWidget(close)

    def refresh(self) -> None:
        if self._reading:
            return  # the last read is still out (a slow or unreachable server)
        self._reading = True
        run_in_background(self._read_state, receiver=self, lane="io", on_done=self._show,
                          on_error=self._on_read_failed)

    def _on_read_failed(self, exc: BaseException) -> None:
        self._reading = False
        self.where.setText(one_line(exc))

    def _show(self, state: ComfyState) -> None:
        self._reading = False
        self.state = state
        answer = "answers" if state.answers else "does not answer"
        if state.supervised:
            self.where.setText(f"Local ComfyUI at {state.url} {answer}. The studio starts it when "
                               "a job needs it and stops it when the worker stops.")
        else:
            self.where.setText(f"ComfyUI at {state.url} {answer}. Set a ComfyUI folder in "
                               "Settings to have the studio start and stop it.")
        self.start_button.setEnabled(state.supervised and not state.answers and not self._busy)
        self.stop_button.setEnabled(state.supervised and state.answers and not self._busy)
        text = "\n".join(state.log_tail)
        if text != self.log_view.toPlainText():
            at_end = self.log_view.verticalScrollBar().value() >= self.log_view.verticalScrollBar().maximum() - 2
            self.log_view.setPlainText(text)
            if at_end:  # follow the log unless the user scrolled back to read
                self.log_view.moveCursor(QTextCursor.MoveOperation.End)
        self.state_shown.emit(state)

    def _act(self, action: Callable[[], None], done: str) -> None:
        self._busy = True
        self.start_button.setEnabled(False)
        self.stop_button.setEnabled(False)
        self.note.setText("Asking the worker…")
        run_in_background(action, receiver=self, lane="io",
                          on_done=lambda _: self._finished(done),
                          on_error=lambda exc: self._finished(one_line(exc)))

    def _finished(self, text: str) -> None:
        self._busy = False
        self.note.setText(text)
        self.action_finished.emit(text)
        self.refresh()

    def done(self, result: int) -> None:
        self.timer.stop()
        super().done(result)
