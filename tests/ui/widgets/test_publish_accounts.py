"""Preferences → Automation's accounts: each platform's account and expiry, Connect through the
browser (the stand-in authorization server answers it) off the UI thread, and Disconnect."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from PySide6.QtCore import Qt

from studio.engine.core import Studio
from studio.engine.publish.providers import client_secret_name
from studio.engine.publish.service import accounts
from studio.ui.context import StudioContext
from studio.ui.widgets.publish_accounts import PublishAccounts
from tests.engine.publish.produced import connect_account
from tests.fakes.oauth_server import FakeOAuthServer


@pytest.fixture
def tiktok_login(studio: Studio) -> Iterator[FakeOAuthServer]:
    with FakeOAuthServer("tiktok", account=("open-id-77", "Mia on TikTok")) as fake:
        for key, value in (("auth_url", fake.url), ("base_url", fake.url), ("client_id", fake.client_id)):
            studio.settings.set(f"publish.tiktok.{key}", value)
        studio.secrets.set(client_secret_name("tiktok"), fake.client_secret)
        yield fake


def test_each_platform_shows_its_account_and_what_can_be_done(qtbot, context: StudioContext, studio: Studio) -> None:
    connect_account(studio, "instagram", name="mira.travels", expires_at=datetime(2027, 2, 1, 12, tzinfo=UTC))
    widget = PublishAccounts(context)
    qtbot.addWidget(widget)
    qtbot.waitUntil(lambda: "mira.travels" in widget.names["instagram"].text())
    assert "token until 2027-02-01" in widget.names["instagram"].text()
    assert "not connected" in widget.names["tiktok"].text()
    assert widget.connect_buttons["instagram"].text() == "Reconnect Instagram…"
    assert widget.connect_buttons["youtube"].text() == "Connect YouTube…"
    assert widget.disconnect_buttons["instagram"].isEnabled()
    assert not widget.disconnect_buttons["tiktok"].isEnabled()


def test_connect_signs_in_through_the_browser_then_disconnect_forgets(
        qtbot, context: StudioContext, studio: Studio, tiktok_login: FakeOAuthServer) -> None:
    opened: list[str] = []

    def browser(url: str) -> object:
        opened.append(url)
        return tiktok_login.browser(url)

    widget = PublishAccounts(context, open_browser=browser)
    qtbot.addWidget(widget)
    qtbot.mouseClick(widget.connect_buttons["tiktok"], Qt.MouseButton.LeftButton)
    assert widget.message.text() == "Waiting for TikTok's sign-in in your browser…"
    assert not widget.connect_buttons["youtube"].isEnabled()  # one sign-in at a time
    qtbot.waitUntil(lambda: "Mia on TikTok" in widget.names["tiktok"].text(), timeout=20_000)
    assert widget.message.text() == "Connected TikTok as Mia on TikTok."
    assert opened and opened[0].startswith(tiktok_login.url)
    qtbot.mouseClick(widget.disconnect_buttons["tiktok"], Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "not connected" in widget.names["tiktok"].text(), timeout=20_000)
    assert widget.message.text() == "Disconnected TikTok."
    assert accounts(studio, context.workspace_id) == []


def test_an_account_connected_elsewhere_appears_without_a_reload(qtbot, context: StudioContext,
                                                                 studio: Studio) -> None:
    widget = PublishAccounts(context)
    qtbot.addWidget(widget)
    qtbot.waitUntil(lambda: "not connected" in widget.names["youtube"].text())
    connect_account(studio, "youtube", name="Mira Shorts")  # as another window's Connect leaves it
    qtbot.waitUntil(lambda: "Mira Shorts" in widget.names["youtube"].text(), timeout=5000)
    assert widget.disconnect_buttons["youtube"].isEnabled()
