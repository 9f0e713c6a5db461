"""Preferences → Automation: the Instagram, TikTok and YouTube accounts the studio posts as.

Each platform has its account (name and token expiry) with Connect (or Reconnect) and
Disconnect. Connecting signs in through the system browser and waits for it to come back to the
studio, so it runs off the UI thread and the row says what it waits for meanwhile.
"""
from __future__ import annotations

import html
import webbrowser
from collections.abc import Callable

from PySide6.QtWidgets import QGridLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from studio.engine.db.changes import ChangeSet, Entity
from studio.engine.db.models import PublishAccount
from studio.engine.publish import clients
from studio.engine.publish.clients import display_name
from studio.engine.publish.platform import PLATFORMS
from studio.engine.publish.service import accounts
from studio.ui.context import StudioContext
from studio.ui.errors import one_line
from studio.ui.tasks import run_in_background
from studio.ui.theme_style import tone

DISCLOSURE = ("With “Label posts as AI-made” on, posts carry the platform's AI-generated label where its "
              "API has one (TikTok, YouTube); Instagram's publishing API has none. Tokens refresh "
              "before they expire.")


class PublishAccounts(QWidget):
    def __init__(self, context: StudioContext, parent: QWidget | None = None, *,
                 open_browser: Callable[[str], object] = webbrowser.open) -> None:
        super().__init__(parent)
        self.context = context
        self.open_browser = open_browser  # the system browser; a test's stand-in follows the URL
        self.found: dict[str, PublishAccount] = {}
        self.busy: str = ""  # the platform being connected or disconnected
        self.names: dict[str, QLabel] = {}
        self.connect_buttons: dict[str, QPushButton] = {}
        self.disconnect_buttons: dict[str, QPushButton] = {}
        grid = QGridLayout()
        grid.setContentsMargins(0, 0, 0, 0)
        for row, platform in enumerate(PLATFORMS):
            self._add_row(grid, row, platform)
        grid.setColumnStretch(1, 1)
        self.message = QLabel(self)
        self.message.setWordWrap(True)
        note = QLabel(DISCLOSURE, self)
        note.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(grid)
        layout.addWidget(self.message)
        layout.addWidget(note)
        context.live.changed.connect(self._on_changed)
        context.workspace_changed.connect(self.reload)
        self.reload()

    def _on_changed(self, changes: ChangeSet) -> None:
        """An account connected from the CLI or another window, or its token refreshed."""
        if not self.busy and changes.touches(Entity.ACCOUNT, workspace_id=self.context.workspace_id):
            self.reload()

    def _add_row(self, grid: QGridLayout, row: int, platform: str) -> None:
        shown = display_name(platform)
        self.names[platform] = QLabel(self)
        self.names[platform].setWordWrap(True)
        self.connect_buttons[platform] = QPushButton(f"Connect {shown}…", self)
        self.connect_buttons[platform].setToolTip(f"Sign in to {shown} in your browser and allow the studio to post")
        self.connect_buttons[platform].clicked.connect(lambda: self.connect_account(platform))
        self.disconnect_buttons[platform] = QPushButton("Disconnect", self)
        self.disconnect_buttons[platform].setToolTip(f"Revoke the studio's access where {shown} allows, and forget it")
        self.disconnect_buttons[platform].clicked.connect(lambda: self.disconnect_account(platform))
        grid.addWidget(QLabel(f"<b>{shown}</b>", self), row, 0)
        grid.addWidget(self.names[platform], row, 1)
        grid.addWidget(self.connect_buttons[platform], row, 2)
        grid.addWidget(self.disconnect_buttons[platform], row, 3)

    def reload(self) -> None:
        studio, workspace_id = self.context.studio, self.context.workspace_id
        run_in_background(lambda: accounts(studio, workspace_id), receiver=self, on_done=self._on_read,
                          on_error=lambda exc: self.message.setText(one_line(exc)))

    def _on_read(self, found: list[PublishAccount]) -> None:
        self.found = {a.platform: a for a in found}
        self._update()

    def _update(self) -> None:
        for platform in PLATFORMS:
            account = self.found.get(platform)
            self.names[platform].setText(self._account_text(account))
            shown = display_name(platform)
            self.connect_buttons[platform].setText(f"{'Reconnect' if account else 'Connect'} {shown}…")
            self.connect_buttons[platform].setEnabled(not self.busy)
            self.disconnect_buttons[platform].setEnabled(account is not None and not self.busy)

    def _account_text(self, account: PublishAccount | None) -> str:
        if account is None:
            return f"<span style='color:{tone('warning', self.palette())}'>not connected</span>"
        name = html.escape(account.name or account.account_id)
        expiry = f" · token until {account.expires_at.astimezone():%Y-%m-%d}" if account.expires_at else ""
        return f"<span style='color:{tone('ok', self.palette())}'>{name}</span>{expiry}"

    def connect_account(self, platform: str) -> None:
        studio, workspace_id, open_browser = self.context.studio, self.context.workspace_id, self.open_browser
        self._start(platform, f"Waiting for {display_name(platform)}'s sign-in in your browser…")
        run_in_background(lambda: clients.connect(studio, workspace_id, platform, open_browser=open_browser),
                          receiver=self, lane="io", on_done=self._on_connected, on_error=self._on_failed)

    def disconnect_account(self, platform: str) -> None:
        studio, workspace_id = self.context.studio, self.context.workspace_id
        self._start(platform, f"Disconnecting {display_name(platform)}…")
        run_in_background(lambda: clients.disconnect(studio, workspace_id, platform), receiver=self,
                          lane="io", on_done=lambda _: self._on_disconnected(platform), on_error=self._on_failed)

    def _start(self, platform: str, message: str) -> None:
        self.busy = platform
        self.message.setText(message)
        self._update()

    def _on_connected(self, account: PublishAccount) -> None:
        self.busy = ""
        self.message.setText(f"Connected {display_name(account.platform)} as {account.name or account.account_id}.")
        self.reload()

    def _on_disconnected(self, platform: str) -> None:
        self.busy = ""
        self.message.setText(f"Disconnected {display_name(platform)}.")
        self.reload()

    def _on_failed(self, exc: BaseException) -> None:
        self.busy = ""
        self.message.setText(one_line(exc))
        self._update()
