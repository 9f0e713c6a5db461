"""The sync conflicts dialog shows both versions of a caption edited on two studios and keeps
the one the user picks."""
from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QLabel, QPlainTextEdit

from studio.engine.core import Studio
from studio.engine.db.models import Dataset, Influencer
from studio.engine.db.repositories import Repository
from studio.engine.sync.records import WorkspaceSync
from studio.engine.sync.sides import open_sides
from studio.ui.context import StudioContext, WorkspaceRef
from studio.ui.tasks import in_flight
from studio.ui.widgets.sync_conflicts import SyncConflictsDialog
from tests.engine.sync.helpers import add_image, caption, edit_caption, syncer


def test_both_versions_are_shown_and_the_chosen_one_is_kept(
        qtbot, two_studios: tuple[Studio, Studio]) -> None:
    a, b = two_studios
    ws = a.workspace("Agency", create=True)
    with a.db.session() as session:
        repo = Repository(session, ws.id)
        mia = repo.add(Influencer(name="Mia"))
        ds = repo.add(Dataset(influencer_id=mia.id, name="faces"))
    image = add_image(a, ws.id, ds.id, "mia smiling")
    syncer(a, ws.id).publish()
    WorkspaceSync(open_sides(b.db, b.paths, b.settings, b.secrets), ws.id).open()
    edit_caption(a, ws.id, image.id, "A: golden hour")
    edit_caption(b, ws.id, image.id, "B: soft light")
    syncer(a, ws.id).run()
    assert len(syncer(b, ws.id).run().conflicts) == 1

    dialog = SyncConflictsDialog(StudioContext(b, WorkspaceRef.of(b.workspace("Agency"))))
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: dialog.list.count() == 1, timeout=10_000)
    assert dialog.list.item(0).text() == "Dataset image · caption"
    mine = dialog.detail.findChild(QPlainTextEdit, "mine:caption")
    theirs = dialog.detail.findChild(QPlainTextEdit, "theirs:caption")
    assert mine.toPlainText() == "B: soft light" and theirs.toPlainText() == "A: golden hour"
    dialog.keep_theirs.click()
    qtbot.waitUntil(lambda: dialog.list.count() == 0 and "No sync" in dialog.status.text(),
                    timeout=10_000)
    assert caption(b, ws.id, image.id) == "A: golden hour"


def _published(a: Studio, b: Studio) -> tuple[uuid.UUID, uuid.UUID]:
    ws = a.workspace("Agency", create=True)
    with a.db.session() as session:
        mia = Repository(session, ws.id).add(Influencer(name="Mia", tone="warm"))
    syncer(a, ws.id).publish()
    WorkspaceSync(open_sides(b.db, b.paths, b.settings, b.secrets), ws.id).open()
    return ws.id, mia.id


def _set(studio: Studio, ws_id: uuid.UUID, mia_id: uuid.UUID, **fields: Any) -> None:
    with studio.db.session() as session:
        repo = Repository(session, ws_id)
        repo.update(repo.get(Influencer, mia_id), **fields)


def _open(qtbot, studio: Studio, count: int) -> SyncConflictsDialog:
    dialog = SyncConflictsDialog(StudioContext(studio, WorkspaceRef.of(studio.workspace("Agency"))))
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: dialog.list.count() == count, timeout=10_000)
    # Widgets added to a shown dialog appear at the next turn of the event loop.
    qtbot.waitUntil(lambda: dialog.detail.findChild(QLabel, "note").isVisible(), timeout=10_000)
    return dialog


def test_the_same_field_from_two_desks_is_shown_and_keep_mine_sends_it_up(
        qtbot, tmp_path: Path, two_studios: tuple[Studio, Studio]) -> None:
    a, b = two_studios
    ws_id, mia_id = _published(a, b)
    _set(a, ws_id, mia_id, notes="A: posts at dawn", voice="low")
    _set(b, ws_id, mia_id, notes="B: posts at dusk", tone="dry wit")
    syncer(a, ws_id).run()
    assert len(syncer(b, ws_id).run().conflicts) == 1  # voice and tone merged without asking

    dialog = _open(qtbot, b, 1)
    assert dialog.list.item(0).text() == "Influencer · notes"
    assert "rest of this record was merged" in dialog.detail.findChild(QLabel, "note").text()
    assert dialog.detail.findChild(QPlainTextEdit, "mine:notes").toPlainText() == "B: posts at dusk"
    assert dialog.detail.findChild(QPlainTextEdit, "theirs:notes").toPlainText() == "A: posts at dawn"
    assert dialog.detail.findChild(QPlainTextEdit, "mine:tone") is None  # no conflict there
    shot = tmp_path / "sync_conflicts_fields.png"
    assert dialog.grab().save(str(shot)) and shot.stat().st_size > 5_000
    dialog.keep_mine.click()
    qtbot.waitUntil(lambda: dialog.list.count() == 0 and "No sync" in dialog.status.text(),
                    timeout=10_000)
    syncer(a, ws_id).run()
    with a.db.session() as session:
        mia = Repository(session, ws_id).get(Influencer, mia_id)
        assert (mia.notes, mia.voice, mia.tone) == ("B: posts at dusk", "low", "dry wit")
    qtbot.waitUntil(lambda: in_flight() == 0, timeout=10_000)  # nothing left to land on a closed dialog


def test_a_record_made_on_both_desks_is_explained_and_keep_theirs_folds_it(
        qtbot, tmp_path: Path, two_studios: tuple[Studio, Studio]) -> None:
    a, b = two_studios
    ws_id, _ = _published(a, b)
    made = {}
    for studio, word in ((a, "zoe-a"), (b, "zoe-b")):
        with studio.db.session() as session:
            made[word] = Repository(session, ws_id).add(Influencer(name="Zoe", trigger_word=word)).id
    syncer(a, ws_id).run()
    syncer(b, ws_id).run()

    dialog = _open(qtbot, b, 1)
    assert dialog.list.item(0).text() == "Influencer · 'Zoe' made on both desks"
    assert "Made on both desks separately" in dialog.detail.findChild(QLabel, "note").text()
    assert dialog.detail.findChild(QPlainTextEdit, "mine:trigger_word").toPlainText() == "zoe-b"
    assert dialog.detail.findChild(QPlainTextEdit, "theirs:trigger_word").toPlainText() == "zoe-a"
    assert dialog.detail.findChild(QPlainTextEdit, "mine:id") is None
    shot = tmp_path / "sync_conflicts_clash.png"
    assert dialog.grab().save(str(shot)) and shot.stat().st_size > 5_000
    dialog.keep_theirs.click()
    qtbot.waitUntil(lambda: dialog.list.count() == 0, timeout=10_000)
    with b.db.session() as session:
        zoes = [(i.id, i.trigger_word) for i in Repository(session, ws_id).list(Influencer)
                if i.name == "Zoe"]
    assert zoes == [(made["zoe-a"], "zoe-a")]
    qtbot.waitUntil(lambda: in_flight() == 0, timeout=10_000)  # nothing left to land on a closed dialog
