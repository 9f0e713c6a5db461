"""The sync conflicts dialog shows both versions of a caption edited on two studios and keeps
the one the user picks."""
from __future__ import annotations

from PySide6.QtWidgets import QPlainTextEdit

from studio.engine.core import Studio
from studio.engine.db.models import Dataset, Influencer
from studio.engine.db.repositories import Repository
from studio.engine.sync.records import WorkspaceSync
from studio.engine.sync.sides import open_sides
from studio.ui.context import StudioContext, WorkspaceRef
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
