"""Secrets on the preferences page: written, never shown back; each row only says whether its
secret is set (and by what). They live in the keyring (or its file stand-in), never in the TOML."""
from __future__ import annotations

import os

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QPushButton,
    QWidget,
)

from studio.engine.secrets import env_name, one_line, value_problem
from studio.ui.context import StudioContext
from studio.ui.tasks import run_in_background

SECRET_LABELS = {"openrouter": "OpenRouter API key", "server.postgres": "PostgreSQL password",
                 "server.redis": "Redis password", "server.s3": "S3 / MinIO secret key",
                 "publish.instagram.client_secret": "Instagram app secret",
                 "publish.tiktok.client_secret": "TikTok client secret",
                 "publish.youtube.client_secret": "YouTube (Google) client secret"}
SECRET_HINTS = {"openrouter": "OpenRouter API key (content plans, captions)",
                "server.postgres": "Team server: PostgreSQL password",
                "server.redis": "Team server: Redis password",
                "server.s3": "Team server: S3 / MinIO secret key",
                "publish.instagram.client_secret": "Publishing: the Instagram app's secret",
                "publish.tiktok.client_secret": "Publishing: the TikTok app's client secret",
                "publish.youtube.client_secret": "Publishing: the Google app's client secret"}


class SecretRows(QObject):
    """A line saying where secrets are kept, and a row per secret (its state, Set…, Remove) for
    the page to place beside its label."""

    message_changed = Signal(str)  # a line for the page's status

    def __init__(self, context: StudioContext, names: tuple[str, ...], parent: QWidget) -> None:
        super().__init__(parent)
        self.context = context
        self.names = names
        self._parent = parent
        self.states: dict[str, QLabel] = {}
        self.buttons: dict[str, tuple[QPushButton, QPushButton]] = {}
        info = context.studio.secrets.info()
        where = (f"Kept in the {info.description}, never in the settings file." if info.kind == "keyring"
                 else f"Kept in a file, not the system keyring: {info.description}.")
        self.backend_label = QLabel(where, parent)
        self.backend_label.setWordWrap(True)
        self.rows = {name: self._row(name) for name in names}

    @staticmethod
    def label(name: str) -> str:
        return SECRET_LABELS.get(name, name)

    def _row(self, name: str) -> QWidget:
        holder = QWidget(self._parent)
        holder.setToolTip(f"{SECRET_HINTS.get(name, name)} (secret '{name}')")
        state = QLabel("…", holder)
        set_button, remove_button = QPushButton("Set…", holder), QPushButton("Remove", holder)
        set_button.clicked.connect(lambda _=False, n=name: self._on_set_clicked(n))
        remove_button.clicked.connect(lambda _=False, n=name: self._on_remove_clicked(n))
        row = QHBoxLayout(holder)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(state)
        row.addStretch(1)
        row.addWidget(set_button)
        row.addWidget(remove_button)
        self.states[name] = state
        self.buttons[name] = (set_button, remove_button)
        return holder

    def refresh(self) -> None:
        secrets, names = self.context.studio.secrets, self.names

        def states() -> dict[str, str]:
            found: dict[str, str] = {}
            for name in names:
                if os.environ.get(env_name(name), "").strip():  # an empty one is ignored
                    found[name] = f"set by the environment ({env_name(name)})"
                else:
                    found[name] = "set" if secrets.get(name) else "not set"
            return found  # only whether each is set; the values stay on that thread

        run_in_background(states, receiver=self, on_done=self._on_states_loaded)

    def _on_states_loaded(self, states: dict[str, str]) -> None:
        for name, text in states.items():
            self.states[name].setText(text)
            self.buttons[name][1].setEnabled(text == "set")

    def _on_set_clicked(self, name: str) -> None:
        value, ok = QInputDialog.getText(self._parent, "Set secret", f"New value for {SECRET_LABELS.get(name, name)}:",
                                         QLineEdit.EchoMode.Password)
        if not ok or not value:
            return
        value = one_line(value)
        problem = value_problem(value)
        if problem:  # e.g. a pasted block of several lines: refused whole, never cut
            self.message_changed.emit(f"'{name}' was not stored: a secret {problem}.")
            return
        secrets = self.context.studio.secrets
        run_in_background(lambda: secrets.set(name, value), receiver=self,
                          on_done=lambda _: self.refresh())

    def _on_remove_clicked(self, name: str) -> None:
        secrets = self.context.studio.secrets
        run_in_background(lambda: secrets.delete(name), receiver=self,
                          on_done=lambda _: self.refresh())
