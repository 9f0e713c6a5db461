"""``server conflicts`` lists open sync conflicts and settles one with --keep-mine or --keep-theirs;
two desks (local SQLite each) on the real PostgreSQL of the tests."""
from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from studio.engine.core import Studio
from studio.engine.db.models import Influencer
from studio.engine.db.repositories import Repository
from studio.engine.server.connect import ServerTarget
from studio.engine.sync.records import SyncState, WorkspaceSync
from studio.engine.sync.sides import open_sides
from tests.cli.conftest import cli_here
from tests.engine.sync.helpers import studio_on, sync_target, syncer  # noqa: F401 - the fixture


def _notes(folder: Path, target: ServerTarget, text: str) -> str:
    studio = studio_on(folder, target)
    try:
        ws = studio.workspace("Agency")
        with studio.db.session() as session:
            repo = Repository(session, ws.id)
            mia = repo.find(Influencer, name="Mia")
            assert mia is not None
            if text:
                repo.update(mia, notes=text)
            return mia.notes
    finally:
        studio.close()


def _two_desks_in_conflict(tmp_path: Path, target: ServerTarget) -> tuple[Path, Path, str]:
    """Desk A and desk B both changed Mia's notes; B's sync found the conflict."""
    a, b = studio_on(tmp_path / "a", target), studio_on(tmp_path / "b", target)
    try:
        for studio in (a, b):  # the command line finds the server in the settings file
            studio.save_settings()
        ws = a.workspace("Agency", create=True)
        with a.db.session() as session:
            mia = Repository(session, ws.id).add(Influencer(name="Mia", tone="warm"))
        syncer(a, ws.id).publish()
        WorkspaceSync(open_sides(b.db, b.paths, b.settings, b.secrets), ws.id).open()
        for studio, text in ((a, "notes from A"), (b, "notes from B")):
            with studio.db.session() as session:
                repo = Repository(session, ws.id)
                repo.update(repo.get(Influencer, mia.id), notes=text)
        syncer(a, ws.id).run()
        assert len(syncer(b, ws.id).run().conflicts) == 1
    finally:
        a.close()
        b.close()
    return tmp_path / "a", tmp_path / "b", str(mia.id)


@pytest.mark.parametrize(("flag", "kept"), [("--keep-mine", "notes from B"),
                                            ("--keep-theirs", "notes from A")])
def test_conflicts_lists_then_keeps_one_side(tmp_path: Path, sync_target: ServerTarget,  # noqa: F811
                                             flag: str, kept: str) -> None:
    a, b, row_id = _two_desks_in_conflict(tmp_path, sync_target)
    shown = cli_here(b, "server", "conflicts", "--workspace", "Agency")
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.splitlines()[:4] == [
        f"influencers {row_id}", "  notes:", "    mine:   'notes from B'", "    theirs: 'notes from A'"]
    settled = cli_here(b, "server", "conflicts", flag, row_id, "--workspace", "Agency")
    assert settled.returncode == 0, settled.stderr
    assert cli_here(b, "server", "conflicts", "--workspace", "Agency").stdout == "no sync conflicts\n"
    studio = Studio.open(b)
    try:
        state = SyncState(studio.paths.data_dir / "sync", studio.workspace("Agency").id)
        assert state.conflicts == {}
        assert syncer(studio, studio.workspace("Agency").id).run().conflicts == []
    finally:
        studio.close()
    assert _notes(a, sync_target, "") == "notes from A"  # A has not synced since
    studio = Studio.open(a)
    try:
        syncer(studio, studio.workspace("Agency").id).run()
    finally:
        studio.close()
    assert _notes(a, sync_target, "") == _notes(b, sync_target, "") == kept


def test_settling_an_unknown_row_or_both_ways_at_once_is_refused(
        tmp_path: Path, sync_target: ServerTarget) -> None:  # noqa: F811
    _, b, row_id = _two_desks_in_conflict(tmp_path, sync_target)
    unknown = cli_here(b, "server", "conflicts", "--keep-mine", str(uuid.uuid4()), "--workspace", "Agency")
    assert unknown.returncode == 1 and "No open sync conflict for row" in unknown.stderr
    both = cli_here(b, "server", "conflicts", "--keep-mine", row_id, "--keep-theirs", row_id)
    assert both.returncode == 2 and "not allowed with argument" in both.stderr
