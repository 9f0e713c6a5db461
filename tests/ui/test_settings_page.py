"""The preferences page: grouped settings with fitting editors, checked as typed, saved all at once
to the file (read back through the engine); secrets are written but never shown back."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QKeySequence, QWheelEvent
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMessageBox,
    QSpinBox,
)

from studio.engine.config import ComfyUISettings, load_settings, read_settings
from studio.engine.core import Studio
from studio.engine.db.changes import Change, ChangeSet, Entity
from studio.ui.context import StudioContext
from studio.ui.main_window import MainWindow
from studio.ui.pages.settings import SettingsPage, apply_changes
from studio.ui.pages.settings_fields import GROUPS, Kind

Answer = QMessageBox.StandardButton


@pytest.fixture
def page(qtbot, context: StudioContext) -> Iterator[SettingsPage]:
    widget = SettingsPage(context)
    qtbot.addWidget(widget)
    widget.resize(1280, 720)
    widget.show()
    yield widget


def type_into(qtbot, spin: QSpinBox | QDoubleSpinBox, text: str) -> None:
    spin.lineEdit().selectAll()
    qtbot.keyClicks(spin.lineEdit(), text)


def answer_with(monkeypatch, answer: QMessageBox.StandardButton) -> list[str]:
    asked: list[str] = []

    def question(parent, title, text, *args, **kwargs):
        asked.append(text)
        return answer

    monkeypatch.setattr(QMessageBox, "question", question)
    return asked


def test_each_group_is_a_page_with_its_heading(page: SettingsPage) -> None:
    assert [page.group_list.item(row).text() for row in range(page.group_list.count())] == list(GROUPS)
    for title in GROUPS:
        page.show_group(title)
        shown = page.group_stack.currentWidget()
        assert shown is page.groups[title] and shown.heading.text() == title and shown.heading.isVisible()
    assert page.groups["Advanced"].isAncestorOf(page.fields["worker.heartbeat_interval_s"])
    assert page.groups["ComfyUI"].isAncestorOf(page.fields["comfyui.url"])
    assert page.groups["LLM"].isAncestorOf(page.secret_states["openrouter"])
    assert page.groups["Team server"].isAncestorOf(page.server_button)


def test_find_a_setting_shows_only_what_matches(qtbot, page: SettingsPage) -> None:
    qtbot.keyClicks(page.search, "heartbeat")
    visible = [page.group_list.item(row).text() for row in range(page.group_list.count())
               if not page.group_list.item(row).isHidden()]
    assert visible == ["Advanced"] and page.group_stack.currentWidget() is page.groups["Advanced"]
    assert page.rows["worker.heartbeat_interval_s"].isVisible()
    assert not page.rows["queue.video_workers"].isVisible()
    page.search.setText("no such thing")
    assert "No setting matches 'no such thing'" in page.status.text()
    page.search.clear()
    assert all(not page.group_list.item(row).isHidden() for row in range(page.group_list.count()))
    assert page.rows["queue.video_workers"].isVisible() and page.status.text() == ""


def test_every_setting_has_a_field_with_its_description(studio: Studio, context: StudioContext,
                                                        page: SettingsPage) -> None:
    assert set(page.fields) == set(studio.settings.keys())
    assert page.fields["comfyui.url"].text() == ComfyUISettings().url  # the default, never reached
    assert page.fields["general.current_workspace"].isReadOnly()
    assert page.fields["general.current_workspace"].text() == context.workspace.name
    assert all(row.description.text() for row in page.rows.values())


def test_editors_fit_their_values(page: SettingsPage) -> None:
    for key, row in page.rows.items():
        if row.spec.kind is Kind.CHECK:
            assert isinstance(page.fields[key], QCheckBox), key
    assert isinstance(page.fields["comfyui.autostart"], QCheckBox)
    assert isinstance(page.fields["ui.theme"], QComboBox)
    workers = page.fields["queue.video_workers"]
    assert isinstance(workers, QSpinBox) and (workers.minimum(), workers.maximum()) == (1, 64)
    heartbeat = page.fields["worker.heartbeat_interval_s"]
    assert isinstance(heartbeat, QDoubleSpinBox) and heartbeat.suffix() == " s"
    assert heartbeat.minimum() > 0 and heartbeat.maximum() == 600
    assert page.fields["pipeline.stagger_minutes"].suffix() == " min"


def test_browse_fills_folder_and_file_fields(monkeypatch, tmp_path: Path, page: SettingsPage) -> None:
    asked: list[str] = []
    monkeypatch.setattr(QFileDialog, "getExistingDirectory",
                        lambda parent, title, start: asked.append(title) or str(tmp_path))
    monkeypatch.setattr(QFileDialog, "getOpenFileName",
                        lambda parent, title, start: (str(tmp_path / "python3"), ""))
    page.browse_buttons["sdscripts.folder"].click()
    page.browse_buttons["sdscripts.python"].click()
    assert page.fields["sdscripts.folder"].text() == str(tmp_path)
    assert page.fields["sdscripts.python"].text() == str(tmp_path / "python3")
    assert asked == ["Choose the sd-scripts folder"]
    assert page.save_button.isEnabled() and page.has_unsaved_changes()
    assert "general.current_workspace" not in page.browse_buttons and "comfyui.url" not in page.browse_buttons


def test_an_invalid_value_shows_its_reason_beside_the_field_and_blocks_save(page: SettingsPage) -> None:
    page.show_group("ComfyUI")
    page.fields["comfyui.url"].setText("gpu-box:8188")
    error = page.errors["comfyui.url"]
    assert error.isVisible() and error.text().startswith("Must be a URL starting with http://")
    assert not page.save_button.isEnabled()
    assert "marked in red" in page.status.text()
    comfy_item = page.group_list.item(GROUPS.index("ComfyUI"))
    assert comfy_item.foreground().color().name() == "#c0392b"  # theme_style.TONES["error"] on the light palette
    page.fields["comfyui.url"].setText("http://gpu-box:8188")
    assert error.isHidden() and page.save_button.isEnabled()


def test_an_out_of_range_number_is_named_and_blocks_save(qtbot, page: SettingsPage) -> None:
    page.show_group("Advanced")
    type_into(qtbot, page.fields["queue.video_workers"], "0")
    assert page.errors["queue.video_workers"].text() == "Must be at least 1 and at most 64."
    assert page.errors["queue.video_workers"].isVisible() and not page.save_button.isEnabled()
    type_into(qtbot, page.fields["queue.video_workers"], "2")
    assert page.errors["queue.video_workers"].isHidden() and page.save_button.isEnabled()


def test_settings_checked_against_each_other_name_the_one_to_fix(page: SettingsPage) -> None:
    page.show_group("Advanced")
    page.fields["worker.heartbeat_interval_s"].setValue(20.0)  # the test profile's timeout is 3 s
    timeout_error = page.errors["worker.heartbeat_timeout_s"]
    assert timeout_error.isVisible() and "at least twice the heartbeat (20 s)" in timeout_error.text()
    assert not page.save_button.isEnabled()
    page.fields["worker.heartbeat_timeout_s"].setValue(60.0)
    assert timeout_error.isHidden() and page.save_button.isEnabled()


def test_a_valid_change_is_saved_to_the_file(qtbot, studio: Studio, page: SettingsPage) -> None:
    before = {p.name for p in studio.paths.settings_file.parent.iterdir()}
    page.fields["comfyui.url"].setText("http://gpu-box:8188")
    page.fields["queue.generation_workers"].setValue(2)
    page.fields["comfyui.autostart"].setChecked(True)
    with qtbot.waitSignal(page.settings_saved) as saved:
        page.save_button.click()
    assert sorted(saved.args[0]) == ["comfyui.autostart", "comfyui.url", "queue.generation_workers"]
    read = read_settings(studio.paths.settings_file)
    assert not read.problems
    on_disk = read.settings
    assert on_disk.comfyui.url == "http://gpu-box:8188" and on_disk.queue.generation_workers == 2
    assert on_disk.comfyui.autostart is True
    assert {p.name for p in studio.paths.settings_file.parent.iterdir()} == before  # no temp file left
    assert "Saved" in page.status.text() and "Restart the studio to apply: Pictures at once" in page.status.text()
    assert not page.has_unsaved_changes() and not page.save_button.isEnabled()


def test_a_refused_value_applies_nothing(studio: Studio, page: SettingsPage) -> None:
    page.fields["comfyui.url"].setText("http://elsewhere:8188")
    page.fields["pipeline.daily_at"].setText("25:99")
    assert page.save() is False
    assert "time like 09:30" in page.errors["pipeline.daily_at"].text()
    assert page.errors["comfyui.url"].isHidden()
    assert studio.settings.comfyui.url == ComfyUISettings().url  # all or nothing
    assert load_settings(studio.paths.settings_file).comfyui.url == ComfyUISettings().url
    assert page.fields["pipeline.daily_at"].text() == "25:99"  # the typing is kept


def test_apply_changes_keeps_the_settings_valid(studio: Studio) -> None:
    errors = apply_changes(studio.settings, {"ui.theme": "purple", "llm.model": "x/y"})
    assert "ui.theme" in errors and studio.settings.ui.theme == "system"
    assert studio.settings.llm.model == ""


def test_restore_defaults_puts_back_the_groups_defaults_unsaved(studio: Studio, page: SettingsPage) -> None:
    assert page.fields["worker.heartbeat_interval_s"].value() == 0.5  # the test profile's
    page.show_group("Advanced")
    page.defaults_button.click()
    assert page.fields["worker.heartbeat_interval_s"].value() == 5.0
    assert page.fields["worker.heartbeat_timeout_s"].value() == 30.0
    assert page.fields["comfyui.url"].text() == ComfyUISettings().url  # other groups untouched
    assert page.has_unsaved_changes() and studio.settings.worker.heartbeat_interval_s == 0.5
    page.revert_button.click()
    assert page.fields["worker.heartbeat_interval_s"].value() == 0.5 and not page.has_unsaved_changes()


def test_the_wheel_over_an_unfocused_number_leaves_it_alone(page: SettingsPage) -> None:
    page.show_group("Advanced")
    spin = page.fields["queue.video_workers"]
    before = spin.value()
    wheel = QWheelEvent(QPointF(5, 5), QPointF(spin.mapToGlobal(QPoint(5, 5))), QPoint(0, 0), QPoint(0, -120),
                        Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase,
                        False)
    QApplication.sendEvent(spin, wheel)
    assert spin.value() == before and not page.has_unsaved_changes()


def test_ctrl_s_saves(qtbot, studio: Studio, page: SettingsPage) -> None:
    page.fields["llm.model"].setText("x/by-keyboard")
    with qtbot.waitSignal(page.settings_saved):
        page.save_shortcut.activated.emit()
    assert page.save_shortcut.key().matches(QKeySequence("Ctrl+S")) == QKeySequence.SequenceMatch.ExactMatch
    assert load_settings(studio.paths.settings_file).llm.model == "x/by-keyboard"


def test_settings_saved_elsewhere_show_up_but_edits_stay(studio: Studio, context: StudioContext,
                                                        page: SettingsPage) -> None:
    page.fields["llm.model"].setText("typed/here")
    studio.settings.llm.model = "from/cli"
    studio.settings.comfyui.port = 9999
    context.live.changed.emit(ChangeSet((Change(Entity.SETTINGS, None),)))
    assert page.fields["comfyui.port"].value() == 9999
    assert page.fields["llm.model"].text() == "typed/here" and page.has_unsaved_changes()


@pytest.mark.parametrize("answer", [Answer.Cancel, Answer.Discard, Answer.Save])
def test_leaving_with_unsaved_edits_asks(qtbot, monkeypatch, answer, studio: Studio,
                                         page: SettingsPage) -> None:
    asked = answer_with(monkeypatch, answer)
    assert page.confirm_leave() is True and asked == []  # nothing to ask about
    page.fields["llm.model"].setText("x/new-model")
    left = page.confirm_leave()
    assert len(asked) == 1
    assert left is (answer != Answer.Cancel)
    if answer == Answer.Save:
        qtbot.waitUntil(lambda: load_settings(studio.paths.settings_file).llm.model == "x/new-model")
    else:
        expected = "x/new-model" if answer == Answer.Cancel else ""
        assert page.fields["llm.model"].text() == expected
        assert load_settings(studio.paths.settings_file).llm.model == ""


def test_save_on_leaving_with_a_refused_value_stays(monkeypatch, page: SettingsPage) -> None:
    answer_with(monkeypatch, Answer.Save)
    page.fields["comfyui.url"].setText("nowhere")
    assert page.confirm_leave() is False and page.errors["comfyui.url"].isVisible()


def test_the_window_asks_before_leaving_the_page_or_closing(qtbot, monkeypatch, context: StudioContext) -> None:
    window = MainWindow(context)
    qtbot.addWidget(window)
    window.show()
    window.show_page("settings")
    page = window.pages["settings"]
    assert isinstance(page, SettingsPage)
    page.fields["llm.model"].setText("x/unsaved")
    asked = answer_with(monkeypatch, Answer.Cancel)
    window.show_page("queue")
    assert window.current_page_key() == "settings" and window.sidebar.currentRow() == 7
    assert window.close() is False and window.isVisible() and len(asked) == 2
    answer_with(monkeypatch, Answer.Discard)
    window.show_page("queue")
    assert window.current_page_key() == "queue" and not page.has_unsaved_changes()


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
    assert secret not in studio.paths.settings_file.read_text()

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


def test_nothing_scrolls_sideways_or_is_squeezed_at_1280_by_720(qtbot, page: SettingsPage) -> None:
    page.fields["comfyui.url"].setText("gpu-box")  # a reason shown takes room too
    page.fields["queue.video_workers"].lineEdit().selectAll()
    page.fields["queue.video_workers"].lineEdit().insert("0")
    for title in GROUPS:
        page.show_group(title)
        group = page.groups[title]
        assert group.horizontalScrollBarPolicy() == Qt.ScrollBarPolicy.ScrollBarAlwaysOff
        assert group.widget().minimumSizeHint().width() <= group.viewport().width(), title
        qtbot.waitUntil(lambda g=group: all(f.height() >= f.heightForWidth(f.width()) for f in g.fields))
