"""Two studios on one server: publish, open, edit, a conflicting edit resolved, an offline edit
synced later, nothing lost. Real PostgreSQL, real Redis (for the connection check), moto S3."""
from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from studio.engine.core import Studio
from studio.engine.db.models import Dataset, DatasetImage, Influencer
from studio.engine.db.repositories import Repository
from studio.engine.errors import ServiceUnavailable
from studio.engine.server.connect import ServerTarget
from studio.engine.sync.records import WorkspaceSync
from studio.engine.sync.sides import fetch_asset, open_sides, server_workspaces
from tests.engine.sync.helpers import add_image, caption, edit_caption, studio_on, syncer


def test_two_studios_publish_open_edit_conflict_offline_and_nothing_is_lost(
        two_studios: tuple[Studio, Studio]) -> None:
    a, b = two_studios
    ws = a.workspace("Agency", create=True)
    with a.db.session() as session:
        repo = Repository(session, ws.id)
        mia = repo.add(Influencer(name="Mia", trigger_word="m1a"))
        ds = repo.add(Dataset(influencer_id=mia.id, name="faces"))
    one = add_image(a, ws.id, ds.id, "mia smiling")
    two = add_image(a, ws.id, ds.id, "mia at the beach")

    steps: list[str] = []
    published = syncer(a, ws.id).publish(lambda fraction, stage: steps.append(stage))
    assert published.pushed >= 5 and published.uploaded == 2 and not published.conflicts
    assert steps[-1] == "done" and "asset files" in steps

    server = open_sides(b.db, b.paths, b.settings, b.secrets)
    assert (ws.id, "Agency") in server_workspaces(server.server)
    opened = WorkspaceSync(server, ws.id).open()
    assert opened.pulled == published.pushed - 1  # the workspace row itself came first
    assert caption(b, ws.id, one.id) == "mia smiling"
    local_file = fetch_asset(server.local_store, server.remote_store, one.storage_key)  # on demand
    assert local_file.read_bytes() == a.asset_path(one.storage_key).read_bytes()

    # The same caption edited on both studios: the second to sync is shown both versions.
    edit_caption(a, ws.id, one.id, "A: mia smiling, golden hour")
    edit_caption(b, ws.id, one.id, "B: mia smiling softly")
    assert syncer(a, ws.id).run().pushed == 1
    clash = syncer(b, ws.id).run()
    assert [(c.table, c.row_id) for c in clash.conflicts] == [("dataset_images", str(one.id))]
    assert clash.conflicts[0].mine == {"caption": "B: mia smiling softly"}
    assert clash.conflicts[0].theirs == {"caption": "A: mia smiling, golden hour"}
    assert caption(b, ws.id, one.id) == "B: mia smiling softly"  # nothing overwritten
    assert syncer(b, ws.id).conflicts()[0].row_id == str(one.id)  # still open on a re-sync
    syncer(b, ws.id).resolve(str(one.id), "mine")
    assert syncer(b, ws.id).conflicts() == []
    assert syncer(a, ws.id).run().pulled == 1
    assert caption(a, ws.id, one.id) == "B: mia smiling softly"

    # Offline: B edits with the server out of reach; the sync fails plainly, the edit stays.
    edit_caption(b, ws.id, two.id, "B offline: mia at the beach, sunset")
    three = add_image(b, ws.id, ds.id, "added offline")
    dead = b.settings.server.database_url
    b.settings.server.database_url = "postgresql://postgres@127.0.0.1:1/none"
    with pytest.raises(ServiceUnavailable):
        syncer(b, ws.id)
    b.settings.server.database_url = dead
    assert caption(b, ws.id, two.id) == "B offline: mia at the beach, sunset"
    later = syncer(b, ws.id).run()  # back online
    assert later.pushed == 2 and later.uploaded == 1
    assert syncer(a, ws.id).run().pulled == 2
    assert caption(a, ws.id, two.id) == "B offline: mia at the beach, sunset"
    assert caption(a, ws.id, three.id) == "added offline"
    with a.db.session() as session:
        assert len(Repository(session, ws.id).list(DatasetImage)) == 3
    again = syncer(a, ws.id).run()  # in step: nothing to do
    assert (again.pushed, again.pulled, again.uploaded, again.conflicts) == (0, 0, 0, [])


def test_a_deleted_row_goes_from_the_other_side_and_resolve_theirs_pulls(
        two_studios: tuple[Studio, Studio]) -> None:
    a, b = two_studios
    ws = a.workspace("Agency", create=True)
    with a.db.session() as session:
        repo = Repository(session, ws.id)
        mia = repo.add(Influencer(name="Mia"))
        zed = repo.add(Influencer(name="Zed"))
    syncer(a, ws.id).publish()
    WorkspaceSync(open_sides(b.db, b.paths, b.settings, b.secrets), ws.id).open()
    with a.db.session() as session:
        repo = Repository(session, ws.id)
        repo.trash(repo.get(Influencer, zed.id))
        repo.purge(repo.get(Influencer, zed.id, include_deleted=True))
        repo.update(repo.get(Influencer, mia.id), notes="from A")
    with b.db.session() as session:
        repo = Repository(session, ws.id)
        repo.update(repo.get(Influencer, mia.id), notes="from B")
    assert syncer(a, ws.id).run().removed == 1
    result = syncer(b, ws.id).run()
    assert result.removed == 1 and len(result.conflicts) == 1
    syncer(b, ws.id).resolve(str(mia.id), "theirs")
    with b.db.session() as session:
        names = [(i.name, i.notes) for i in Repository(session, ws.id).list(Influencer)]
    assert names == [("Mia", "from A")]


def test_the_same_name_made_on_both_sides_is_a_clash_to_settle_while_the_rest_syncs(
        two_studios: tuple[Studio, Studio]) -> None:
    a, b = two_studios
    ws = a.workspace("Agency", create=True)
    syncer(a, ws.id).publish()
    WorkspaceSync(open_sides(b.db, b.paths, b.settings, b.secrets), ws.id).open()
    made = {}
    for studio, word in ((a, "from-a"), (b, "from-b")):  # two people add "Mia" before either syncs
        with studio.db.session() as session:
            repo = Repository(session, ws.id)
            made[word] = repo.add(Influencer(name="Mia", trigger_word=word))
            repo.add(Dataset(influencer_id=made[word].id, name=f"set {word}"))
    with b.db.session() as session:
        Repository(session, ws.id).add(Influencer(name="Zed"))
    assert syncer(a, ws.id).run().pushed == 2
    result = syncer(b, ws.id).run()  # no longer stops: Zed goes up, the two Mias wait
    assert result.pushed == 1
    assert [(c.kind, c.table, c.row_id) for c in result.conflicts] == [
        ("clash", "influencers", str(made["from-b"].id))]
    assert result.conflicts[0].mine["trigger_word"] == "from-b"
    assert result.conflicts[0].theirs["trigger_word"] == "from-a"
    with b.db.session() as session:  # B's own Mia is still there, nothing half-synced
        assert sorted(i.name for i in Repository(session, ws.id).list(Influencer)) == ["Mia", "Zed"]
    assert syncer(a, ws.id).run().pulled == 1 and _names(a, ws.id) == [("Mia", "from-a"), ("Zed", "")]

    syncer(b, ws.id).resolve(str(made["from-b"].id), "mine")  # B's values, the server's identity
    assert syncer(b, ws.id).conflicts() == []
    assert syncer(b, ws.id).run().pushed == 1  # B's dataset, now under the server's Mia
    assert syncer(a, ws.id).run().pulled == 2
    for studio in (a, b):
        assert _names(studio, ws.id) == [("Mia", "from-b"), ("Zed", "")]
        with studio.db.session() as session:
            sets = Repository(session, ws.id).list(Dataset)
            assert sorted(d.name for d in sets) == ["set from-a", "set from-b"]
            assert {d.influencer_id for d in sets} == {made["from-a"].id}


def _names(studio: Studio, ws_id: uuid.UUID) -> list[tuple[str, str]]:
    with studio.db.session() as session:
        return sorted((i.name, i.trigger_word) for i in Repository(session, ws_id).list(Influencer))


def test_a_job_retried_here_is_left_alone_until_it_is_done_again(tmp_path: Path, sync_target: ServerTarget) -> None:
    from studio.engine.db.models import Job
    a = studio_on(tmp_path / "a", sync_target)
    try:
        ws = a.workspace("Agency", create=True)
        with a.db.session() as session:
            job = Repository(session, ws.id).add(Job(type="make-thumbnails", queue="general",
                                                     status="failed", title="thumbs", payload={}))
            running = Repository(session, ws.id).add(Job(type="make-thumbnails", queue="general",
                                                         status="processing", title="busy", payload={}))
        assert syncer(a, ws.id).publish().pushed == 2  # the workspace and the finished job
        with a.db.session() as session:
            repo = Repository(session, ws.id)
            repo.update(repo.get(Job, job.id), status="pending")  # retried here
        result = syncer(a, ws.id).run()
        assert (result.pushed, result.pulled, result.removed) == (0, 0, 0)
        server = open_sides(a.db, a.paths, a.settings, a.secrets).server
        with server.session() as session:
            assert session.get(Job, job.id).status == "failed"  # not deleted, not half-synced
            assert session.get(Job, running.id) is None
        with a.db.session() as session:
            repo = Repository(session, ws.id)
            repo.update(repo.get(Job, job.id), status="completed")
        assert syncer(a, ws.id).run().pushed == 1
        with server.session() as session:
            assert session.get(Job, job.id).status == "completed"
        server.dispose()
    finally:
        a.close()
