"""Settings are saved or refused inline; secrets are written but never shown back."""
from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtWidgets import QInputDialog, QLabel, QLineEdit

from studio.engine.config import ComfyUISettings, load_settings
from studio.engine.core import Studio
from studio.ui.context import StudioContext
from studio.ui.pages.settings import SettingsPage, apply_changes


@pytest.fixture
def page(qtbot, context: StudioContext) -> Iterator[SettingsPage]:
    widget = SettingsPage(context)
    qtbot.addWidget(widget)
    widget.show()
    yield widget


def test_every_setting_has_a_field(studio: Studio, page: SettingsPage) -> None:
    assert set(page.fields) == set(studio.settings.keys())
    assert page.fields["comfyui.url"].text() == ComfyUISettings().url  # the default, never reached
    assert page.fields["general.current_workspace"].isReadOnly()


def test_a_valid_change_is_saved_to_the_file(qtbot, studio: Studio, page: SettingsPage) -> None:
    page.fields["comfyui.url"].setText("http://gpu-box:8188")
    page.fields["queue.generation_workers"].setText("2")
    with qtbot.waitSignal(page.settings_saved) as saved:
        page.save_button.click()
    assert sorted(saved.args[0]) == ["comfyui.url", "queue.generation_workers"]
    on_disk = load_settings(studio.paths.settings_file)
    assert on_disk.comfyui.url == "http://gpu-box:8188" and on_disk.queue.generation_workers == 2
    assert "Saved" in page.status.text()


def test_invalid_values_are_refused_inline_and_nothing_is_applied(studio: Studio,
                                                                  page: SettingsPage) -> None:
    page.fields["comfyui.url"].setText("http://elsewhere:8188")
    page.fields["queue.generation_workers"].setText("zero")
    page.fields["queue.video_workers"].setText("0")
    page.save_button.click()
    assert not page.errors["queue.generation_workers"].isHidden()
    assert "not a valid int" in page.errors["queue.generation_workers"].text()
    assert "at least 1" in page.errors["queue.video_workers"].text()
    assert page.errors["comfyui.url"].isHidden()
    assert studio.settings.comfyui.url == ComfyUISettings().url  # all or nothing
    assert not studio.paths.settings_file.exists() or \
        load_settings(studio.paths.settings_file).comfyui.url == ComfyUISettings().url
    assert page.fields["queue.generation_workers"].text() == "zero"  # the typing is kept


def test_apply_changes_keeps_the_settings_valid(studio: Studio) -> None:
    errors = apply_changes(studio.settings, {"ui.theme": "purple", "llm.model": "x/y"})
    assert "ui.theme" in errors and studio.settings.ui.theme == "system"
    assert studio.settings.llm.model == ""


def test_secrets_are_set_and_removed_without_showing_them(qtbot, monkeypatch, studio: Studio,
                                                          page: SettingsPage) -> None:
    assert "file, not the system keyring" in page.backend_label.text()
    qtbot.waitUntil(lambda: page.secret_states["openrouter"].text() == "not set")
    assert not page.secret_buttons["openrouter"][1].isEnabled()

    secret = "sk-or-test-1234567890"
    asked: list[object] = []

    def get_text(parent, title, label, echo, *args, **kwargs):
        asked.append(echo)
        return secret, True

    monkeypatch.setattr(QInputDialog, "getText", get_text)
    page.secret_buttons["openrouter"][0].click()
    qtbot.waitUntil(lambda: page.secret_states["openrouter"].text() == "set")
    assert asked == [QLineEdit.EchoMode.Password]
    assert studio.secrets.get("openrouter") == secret
    texts = [w.text() for w in page.findChildren(QLabel)] + [w.text() for w in page.findChildren(QLineEdit)]
    assert not any(secret in t for t in texts)

    page.secret_buttons["openrouter"][1].click()
    qtbot.waitUntil(lambda: page.secret_states["openrouter"].text() == "not set")
    assert studio.secrets.get("openrouter") is None


def test_a_secret_from_the_environment_is_named(qtbot, monkeypatch, context: StudioContext) -> None:
    monkeypatch.setenv("INFLUENCERAI_SECRET_SERVER_REDIS", "from-env-value")
    page = SettingsPage(context)
    qtbot.addWidget(page)
    qtbot.waitUntil(lambda: "environment" in page.secret_states["server.redis"].text())
    assert "INFLUENCERAI_SECRET_SERVER_REDIS" in page.secret_states["server.redis"].text()


def test_a_pasted_secret_of_several_lines_is_refused_not_cut(monkeypatch, studio: Studio,
                                                             page: SettingsPage) -> None:
    monkeypatch.setattr(QInputDialog, "getText",
                        lambda *args, **kwargs: ("sk-or-first-line\nsecond-line", True))
    page.secret_buttons["openrouter"][0].click()
    assert "'openrouter' was not stored: a secret must be one line" in page.status.text()
    assert "first-line" not in page.status.text()
    assert studio.secrets.get("openrouter") is None


def test_an_empty_environment_variable_leaves_the_stored_secret_in_charge(
        qtbot, monkeypatch, studio: Studio, context: StudioContext) -> None:
    studio.secrets.set("openrouter", "sk-or-stored-123456")
    monkeypatch.setenv("INFLUENCERAI_SECRET_OPENROUTER", "")
    page = SettingsPage(context)
    qtbot.addWidget(page)
    qtbot.waitUntil(lambda: page.secret_states["openrouter"].text() == "set")
    assert page.secret_buttons["openrouter"][1].isEnabled()
