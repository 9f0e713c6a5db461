"""Typed persona fields are never lost: a portrait saves on its own, leaving asks first, and the
page opens on the influencer last shown."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog, QMessageBox

from studio.engine.core import Studio
from studio.engine.influencers import Persona, create_influencer, get_influencer, trash_influencer
from studio.ui.context import StudioContext, WorkspaceRef
from studio.ui.main_window import MainWindow
from studio.ui.pages.influencers import InfluencersPage
from tests.ui.helpers import make_portrait

Button = QMessageBox.StandardButton


@pytest.fixture
def page(qtbot, context: StudioContext) -> Iterator[InfluencersPage]:
    widget = InfluencersPage(context)
    qtbot.addWidget(widget)
    widget.show()
    yield widget


def answering(monkeypatch: pytest.MonkeyPatch, reply: Button) -> list[str]:
    asked: list[str] = []

    def question(parent, title, text, *args, **kwargs):  # type: ignore[no-untyped-def]
        asked.append(text)
        return reply
    monkeypatch.setattr(QMessageBox, "question", question)
    return asked


def show(qtbot, page: InfluencersPage, influencer_id) -> None:  # type: ignore[no-untyped-def]
    page.reload(select=influencer_id)
    qtbot.waitUntil(lambda: page.current is not None and page.current.id == influencer_id)


def type_into(qtbot, page: InfluencersPage, field: str, text: str) -> None:  # type: ignore[no-untyped-def]
    widget = getattr(page.form, field)
    widget.clear()
    qtbot.keyClicks(widget, text)


def test_a_portrait_chosen_after_typing_keeps_the_typed_fields(
        qtbot, monkeypatch, tmp_path: Path, studio: Studio, context: StudioContext,
        page: InfluencersPage) -> None:
    created = create_influencer(studio, context.workspace_id, Persona(name="Lumi", tone="calm"))
    show(qtbot, page, created.id)
    type_into(qtbot, page, "tone", "playful")
    type_into(qtbot, page, "voice", "soft")
    portrait = make_portrait(tmp_path / "lumi.png")
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(portrait), ""))
    qtbot.mouseClick(page.portrait_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.model.at(0) is not None and page.model.at(0).has_avatar)
    qtbot.waitUntil(lambda: "Portrait saved" in page.message.text())
    assert (page.form.tone.text(), page.form.voice.text()) == ("playful", "soft")
    assert not page.changed_bar.isVisible() and page.has_unsaved_changes()
    saved = get_influencer(studio, context.workspace_id, created.id)
    assert saved.avatar_asset_id is not None and saved.tone == "calm"  # the portrait alone

    qtbot.mouseClick(page.save_button, Qt.MouseButton.LeftButton)  # based on the newer version
    qtbot.waitUntil(lambda: get_influencer(studio, context.workspace_id, created.id).tone == "playful")
    assert get_influencer(studio, context.workspace_id, created.id).avatar_asset_id == saved.avatar_asset_id


def test_leaving_with_unsaved_edits_asks_and_cancel_stays(
        qtbot, monkeypatch, studio: Studio, context: StudioContext, page: InfluencersPage) -> None:
    created = create_influencer(studio, context.workspace_id, Persona(name="Kai", tone="calm"))
    show(qtbot, page, created.id)
    assert page.confirm_leave() and not page.has_unsaved_changes()  # nothing typed: no question
    type_into(qtbot, page, "tone", "gentle")
    asked = answering(monkeypatch, Button.Cancel)
    assert page.confirm_leave() is False
    assert asked and "Kai" in asked[0] and page.form.tone.text() == "gentle"

    answering(monkeypatch, Button.Discard)
    assert page.confirm_leave() is True
    assert page.form.tone.text() == "calm" and not page.has_unsaved_changes()
    assert get_influencer(studio, context.workspace_id, created.id).tone == "calm"


def test_save_when_leaving_writes_the_edits(qtbot, monkeypatch, studio: Studio,
                                            context: StudioContext, page: InfluencersPage) -> None:
    created = create_influencer(studio, context.workspace_id, Persona(name="Noa"))
    show(qtbot, page, created.id)
    type_into(qtbot, page, "voice", "husky")
    answering(monkeypatch, Button.Save)
    assert page.confirm_leave() is True
    assert get_influencer(studio, context.workspace_id, created.id).voice == "husky"

    type_into(qtbot, page, "trigger_word", "two words")  # the engine refuses it: the page stays
    assert page.confirm_leave() is False
    assert page.message.text() and page.form.trigger_word.text() == "two words"


def test_choosing_another_influencer_asks_and_cancel_keeps_the_selection(
        qtbot, monkeypatch, studio: Studio, context: StudioContext, page: InfluencersPage) -> None:
    first = create_influencer(studio, context.workspace_id, Persona(name="Ada"))
    create_influencer(studio, context.workspace_id, Persona(name="Bo"))
    show(qtbot, page, first.id)
    type_into(qtbot, page, "tone", "bright")
    asked = answering(monkeypatch, Button.Cancel)
    other = page.model.index(page.model.row_of(first.id) ^ 1)
    page.list.setCurrentIndex(other)
    assert asked and page.current is not None and page.current.id == first.id
    assert page.list.currentIndex().row() == page.model.row_of(first.id)
    assert page.form.tone.text() == "bright"
    qtbot.mouseClick(page.new_button, Qt.MouseButton.LeftButton)
    assert len(asked) == 2 and page.current is not None and page.form.tone.text() == "bright"


def reopened(qtbot, studio: Studio, closing: StudioContext) -> Callable[[], InfluencersPage]:  # type: ignore[no-untyped-def]
    """A new window on the same data folder: the old context writes what it remembered."""
    closing.stop()

    def make() -> InfluencersPage:
        again = StudioContext(studio, WorkspaceRef.of(studio.workspace()))
        widget = InfluencersPage(again)
        qtbot.addWidget(widget)
        widget.destroyed.connect(again.stop)
        return widget
    return make


def test_the_page_opens_on_the_influencer_last_shown(qtbot, studio: Studio, context: StudioContext,
                                                     page: InfluencersPage) -> None:
    create_influencer(studio, context.workspace_id, Persona(name="Ada"))
    last = create_influencer(studio, context.workspace_id, Persona(name="Zoe"))
    show(qtbot, page, last.id)
    again = reopened(qtbot, studio, context)()
    qtbot.waitUntil(lambda: again.current is not None)
    assert again.current is not None and again.current.id == last.id
    assert again.form.name.text() == "Zoe"


def test_a_trashed_last_influencer_falls_back_to_the_first(qtbot, studio: Studio,
                                                           context: StudioContext,
                                                           page: InfluencersPage) -> None:
    create_influencer(studio, context.workspace_id, Persona(name="Ada"))
    last = create_influencer(studio, context.workspace_id, Persona(name="Zoe"))
    show(qtbot, page, last.id)
    trash_influencer(studio, context.workspace_id, last.id)
    again = reopened(qtbot, studio, context)()
    qtbot.waitUntil(lambda: again.current is not None)
    assert again.current is not None and again.current.name == again.model.at(0).name
    assert again.current.id != last.id


def test_the_window_asks_before_another_page_or_closing(qtbot, monkeypatch, studio: Studio,
                                                       context: StudioContext) -> None:
    create_influencer(studio, context.workspace_id, Persona(name="Ivy", tone="calm"))
    window = MainWindow(context)
    qtbot.addWidget(window)
    window.show()
    page = window.pages["influencers"]
    assert isinstance(page, InfluencersPage)
    qtbot.waitUntil(lambda: page.current is not None)  # opened on the first influencer
    type_into(qtbot, page, "tone", "warm")
    asked = answering(monkeypatch, Button.Cancel)
    window.sidebar.setCurrentRow(1)
    assert window.current_page_key() == "influencers" and len(asked) == 1
    assert window.close() is False and window.isVisible() and len(asked) == 2
    assert page.form.tone.text() == "warm"
    answering(monkeypatch, Button.Discard)
    assert window.close() is True
