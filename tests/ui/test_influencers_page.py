"""The influencer editor, driven like a user would, checked against the database; edits made
elsewhere (another process) while it is open are reported, never overwritten silently."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog, QMessageBox

from studio.engine.core import Studio
from studio.engine.db.models import Influencer
from studio.engine.influencers import Persona, create_influencer, get_influencer, list_influencers, update_influencer
from studio.ui.context import StudioContext
from studio.ui.pages.influencers import InfluencersPage, parse_topics
from tests.conftest import run_cli
from tests.ui.helpers import make_portrait


@pytest.fixture
def page(qtbot, context: StudioContext) -> Iterator[InfluencersPage]:
    widget = InfluencersPage(context)
    qtbot.addWidget(widget)
    widget.show()
    yield widget


def fill(qtbot, page: InfluencersPage, **values: str) -> None:
    for name, value in values.items():
        field = getattr(page.form, name)
        field.clear()
        if hasattr(field, "setPlainText"):
            field.setPlainText(value)
        else:
            qtbot.keyClicks(field, value)


def rows(studio: Studio, context: StudioContext) -> list[Influencer]:
    return list(list_influencers(studio, context.workspace_id))


def test_topics_are_split_by_commas_or_lines() -> None:
    assert parse_topics("travel, food\nfilm photography\n\n, ") == ["travel", "food", "film photography"]


def test_create_then_edit(qtbot, studio: Studio, context: StudioContext, page: InfluencersPage) -> None:
    fill(qtbot, page, name="Mira Sol", trigger_word="mira_v1", tone="warm, curious",
         topics="travel, street food\nfilm photography", language="es", notes="Lisbon based")
    qtbot.mouseClick(page.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(rows(studio, context)) == 1)
    saved = rows(studio, context)[0]
    assert (saved.name, saved.trigger_word, saved.tone, saved.language, saved.notes) == (
        "Mira Sol", "mira_v1", "warm, curious", "es", "Lisbon based")
    assert saved.topics == ["travel", "street food", "film photography"]
    qtbot.waitUntil(lambda: page.current is not None and page.current.id == saved.id)
    qtbot.waitUntil(lambda: page.model.rowCount() == 1)  # the list catches up after the save
    assert page.delete_button.isEnabled()

    fill(qtbot, page, tone="dry humour")
    qtbot.mouseClick(page.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: get_influencer(studio, context.workspace_id, saved.id).tone == "dry humour")
    edited = get_influencer(studio, context.workspace_id, saved.id)
    assert edited.version == saved.version + 1 and edited.name == "Mira Sol"
    assert len(rows(studio, context)) == 1
    qtbot.waitUntil(lambda: page.current is not None and page.current.version == edited.version)


def test_validation_error_is_one_line_and_keeps_the_form(qtbot, studio: Studio, context: StudioContext,
                                                         page: InfluencersPage, shown_errors) -> None:
    fill(qtbot, page, name="Nova", trigger_word="two words", tone="bold", topics="music")
    qtbot.mouseClick(page.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "trigger word" in page.message.text())
    assert "\n" not in page.message.text()
    assert page.form.name.text() == "Nova" and page.form.trigger_word.text() == "two words"
    assert page.form.tone.text() == "bold" and page.form.topics.toPlainText() == "music"
    assert rows(studio, context) == [] and shown_errors == []

    fill(qtbot, page, name="   ", trigger_word="nova")
    qtbot.mouseClick(page.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "needs a name" in page.message.text())
    assert rows(studio, context) == []


def test_a_stale_edit_reports_the_conflict(qtbot, studio: Studio, context: StudioContext,
                                           page: InfluencersPage) -> None:
    created = create_influencer(studio, context.workspace_id, Persona(name="Kai", tone="calm"))
    page.reload(select=created.id)
    qtbot.waitUntil(lambda: page.current is not None and page.current.id == created.id)
    update_influencer(studio, context.workspace_id, created.id, Persona(name="Kai", tone="loud"))
    fill(qtbot, page, tone="gentle")
    qtbot.mouseClick(page.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "changed elsewhere" in page.message.text())
    assert get_influencer(studio, context.workspace_id, created.id).tone == "loud"
    assert page.form.tone.text() == "gentle"


def test_delete_asks_first_then_moves_to_trash(qtbot, monkeypatch, studio: Studio,
                                               context: StudioContext, page: InfluencersPage) -> None:
    created = create_influencer(studio, context.workspace_id, Persona(name="Ivy"))
    page.reload(select=created.id)
    qtbot.waitUntil(lambda: page.current is not None and page.current.id == created.id)
    asked: list[str] = []

    def answer(reply: QMessageBox.StandardButton):
        def question(parent, title, text, *args, **kwargs):
            asked.append(text)
            return reply
        return question

    monkeypatch.setattr(QMessageBox, "question", answer(QMessageBox.StandardButton.No))
    qtbot.mouseClick(page.delete_button, Qt.MouseButton.LeftButton)
    assert asked and "Ivy" in asked[0]
    assert [r.name for r in rows(studio, context)] == ["Ivy"]

    monkeypatch.setattr(QMessageBox, "question", answer(QMessageBox.StandardButton.Yes))
    qtbot.mouseClick(page.delete_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.model.rowCount() == 0)
    assert rows(studio, context) == []
    with studio.db.session() as session:
        assert session.get(Influencer, created.id).deleted_at is not None  # in the trash, not gone
    assert page.current is None and "trash" in page.message.text()


def test_portrait_gets_a_thumbnail_from_the_worker(qtbot, monkeypatch, tmp_path: Path, studio: Studio,
                                                   context: StudioContext, page: InfluencersPage,
                                                   worker) -> None:
    created = create_influencer(studio, context.workspace_id, Persona(name="Lumi"))
    page.reload(select=created.id)
    qtbot.waitUntil(lambda: page.current is not None and page.current.id == created.id)
    portrait = make_portrait(tmp_path / "lumi.png")
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(portrait), ""))
    qtbot.mouseClick(page.portrait_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.model.at(0) is not None and page.model.at(0).thumbnail is not None,
                    timeout=30_000)
    assert page.model.at(0).thumbnail.width() <= 128
    assert page.model.data(page.model.index(0), Qt.ItemDataRole.DecorationRole) is not None
    assert get_influencer(studio, context.workspace_id, created.id).avatar_asset_id is not None


def show(qtbot, page: InfluencersPage, influencer_id) -> None:  # type: ignore[no-untyped-def]
    page.reload(select=influencer_id)
    qtbot.waitUntil(lambda: page.current is not None and page.current.id == influencer_id)


def test_an_edit_from_another_process_is_reported_and_not_overwritten(
        qtbot, studio: Studio, context: StudioContext, data_dir: Path, page: InfluencersPage) -> None:
    created = create_influencer(studio, context.workspace_id, Persona(name="Kai", tone="calm"))
    show(qtbot, page, created.id)
    fill(qtbot, page, tone="gentle")  # typed here, not saved yet
    done = run_cli(data_dir, "influencer", "edit", "Kai", "--tone", "loud")
    assert done.returncode == 0, done.stderr
    qtbot.waitUntil(page.changed_bar.isVisible, timeout=5000)
    assert page.changed_bar.text.text().startswith("Changed elsewhere — “Kai”")
    assert page.form.tone.text() == "gentle"  # the typing is kept

    qtbot.mouseClick(page.save_button, Qt.MouseButton.LeftButton)  # no choice made: refused
    qtbot.waitUntil(lambda: "changed elsewhere" in page.message.text())
    assert get_influencer(studio, context.workspace_id, created.id).tone == "loud"

    qtbot.mouseClick(page.changed_bar.keep_button, Qt.MouseButton.LeftButton)
    assert not page.changed_bar.isVisible()
    qtbot.mouseClick(page.save_button, Qt.MouseButton.LeftButton)  # now knowingly replaces it
    qtbot.waitUntil(lambda: get_influencer(studio, context.workspace_id, created.id).tone == "gentle")


def test_reload_shows_the_version_saved_elsewhere(qtbot, studio: Studio, context: StudioContext,
                                                  page: InfluencersPage) -> None:
    created = create_influencer(studio, context.workspace_id, Persona(name="Noa", tone="calm"))
    show(qtbot, page, created.id)
    fill(qtbot, page, tone="gentle")
    update_influencer(studio, context.workspace_id, created.id, Persona(name="Noa", tone="loud"))
    qtbot.waitUntil(page.changed_bar.isVisible, timeout=5000)
    qtbot.mouseClick(page.changed_bar.reload_button, Qt.MouseButton.LeftButton)
    assert page.form.tone.text() == "loud" and not page.changed_bar.isVisible()
    assert page.current is not None and page.current.version == get_influencer(
        studio, context.workspace_id, created.id).version


def test_without_edits_the_editor_shows_the_newer_version_and_the_list_follows(
        qtbot, studio: Studio, context: StudioContext, data_dir: Path, page: InfluencersPage) -> None:
    created = create_influencer(studio, context.workspace_id, Persona(name="Ada", tone="calm"))
    show(qtbot, page, created.id)
    done = run_cli(data_dir, "influencer", "edit", "Ada", "--tone", "bright")
    assert done.returncode == 0, done.stderr
    qtbot.waitUntil(lambda: page.form.tone.text() == "bright", timeout=5000)
    assert not page.changed_bar.isVisible()
    done = run_cli(data_dir, "influencer", "create", "Bo")
    assert done.returncode == 0, done.stderr
    qtbot.waitUntil(lambda: page.model.rowCount() == 2, timeout=5000)  # no reload asked for
    assert page.current is not None and page.current.id == created.id
