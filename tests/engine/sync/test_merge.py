"""Two desks on one server (real PostgreSQL, local SQLite each): the caption history merges in time
order, different fields of one row both stay, the same field is one conflict settled either way,
and a clash settled with the other desk's values."""
from __future__ import annotations

import json
import uuid
from typing import Any

from sqlalchemy import select

from studio.engine.core import Studio
from studio.engine.datasets import captions
from studio.engine.db.models import CaptionBatch, CaptionChange, Dataset, Influencer
from studio.engine.db.repositories import Repository
from studio.engine.sync.records import WorkspaceSync
from studio.engine.sync.sides import open_sides
from tests.engine.sync.helpers import add_image, caption, syncer


def _shared(a: Studio, b: Studio, **fields: str) -> tuple[uuid.UUID, Influencer]:
    """A workspace with Mia published by A and opened by B."""
    ws = a.workspace("Agency", create=True)
    with a.db.session() as session:
        mia = Repository(session, ws.id).add(Influencer(name="Mia", **fields))
    syncer(a, ws.id).publish()
    WorkspaceSync(open_sides(b.db, b.paths, b.settings, b.secrets), ws.id).open()
    return ws.id, mia


def _edit(studio: Studio, ws_id: uuid.UUID, mia_id: uuid.UUID, **fields: Any) -> None:
    with studio.db.session() as session:
        repo = Repository(session, ws_id)
        repo.update(repo.get(Influencer, mia_id), **fields)


def _mia(studio: Studio, ws_id: uuid.UUID, mia_id: uuid.UUID) -> Influencer:
    with studio.db.session() as session:
        return Repository(session, ws_id).get(Influencer, mia_id)


def _history(studio: Studio, dataset_id: uuid.UUID) -> list[tuple[int, str]]:
    """The dataset's caption steps in their order, each with the text it wrote."""
    with studio.db.session() as session:
        steps = session.scalars(select(CaptionBatch).where(CaptionBatch.dataset_id == dataset_id)
                                .order_by(CaptionBatch.seq)).all()
        order = sorted(steps, key=lambda s: (s.created_at, str(s.id)))
        assert [s.id for s in order] == [s.id for s in steps]  # numbered by time
        return [(s.seq, session.scalars(select(CaptionChange.after)
                                        .where(CaptionChange.batch_id == s.id)).one())
                for s in steps]


def test_a_caption_edited_on_both_desks_keeps_both_steps_in_time_order(
        two_studios: tuple[Studio, Studio]) -> None:
    a, b = two_studios
    ws = a.workspace("Agency", create=True)
    with a.db.session() as session:
        repo = Repository(session, ws.id)
        ds = repo.add(Dataset(influencer_id=repo.add(Influencer(name="Mia")).id, name="faces"))
    image = add_image(a, ws.id, ds.id, "mia")
    captions.set_caption(a, ds, image.id, "mia smiling")
    syncer(a, ws.id).publish()
    WorkspaceSync(open_sides(b.db, b.paths, b.settings, b.secrets), ws.id).open()

    captions.set_caption(a, ds, image.id, "A: mia smiling, golden hour")  # step 2 on A
    captions.set_caption(b, ds, image.id, "B: mia smiling softly")  # step 2 on B, made later
    assert syncer(a, ws.id).run().pushed == 3  # the step, its change, the image
    merged = syncer(b, ws.id).run()  # was: "caption_batches was made on both sides separately"
    assert merged.pushed == 2 and merged.pulled == 2  # B's step and change up, A's down
    assert [(c.table, c.row_id, sorted(c.mine)) for c in merged.conflicts] == [
        ("dataset_images", str(image.id), ["caption", "tags"])]
    assert syncer(a, ws.id).run().pulled == 2
    expected = [(1, "mia smiling"), (2, "A: mia smiling, golden hour"), (3, "B: mia smiling softly")]
    assert _history(a, ds.id) == _history(b, ds.id) == expected

    syncer(b, ws.id).resolve(str(image.id), "mine")  # the caption itself: B's, kept by B's user
    assert syncer(a, ws.id).run().pulled == 1
    assert caption(a, ws.id, image.id) == caption(b, ws.id, image.id) == "B: mia smiling softly"
    again = syncer(b, ws.id).run()
    assert (again.pushed, again.pulled, again.conflicts) == (0, 0, [])


def test_different_fields_edited_on_two_desks_are_both_kept_without_asking(
        two_studios: tuple[Studio, Studio]) -> None:
    a, b = two_studios
    ws_id, mia = _shared(a, b, tone="warm", notes="", style="film")
    _edit(a, ws_id, mia.id, notes="notes from A")
    _edit(b, ws_id, mia.id, tone="dry wit")
    _edit(b, ws_id, mia.id, style="film")  # a new version, the same value: not an edit of style
    assert syncer(a, ws_id).run().pushed == 1
    both = syncer(b, ws_id).run()
    assert (both.pushed, both.pulled, both.conflicts) == (1, 1, [])
    assert syncer(a, ws_id).run().pulled == 1
    for studio in (a, b):
        row = _mia(studio, ws_id, mia.id)
        assert (row.notes, row.tone, row.style) == ("notes from A", "dry wit", "film")
    again = syncer(b, ws_id).run()
    assert (again.pushed, again.pulled, again.conflicts) == (0, 0, [])


def test_the_same_field_on_both_desks_is_one_conflict_the_rest_merges(
        two_studios: tuple[Studio, Studio]) -> None:
    a, b = two_studios
    ws_id, mia = _shared(a, b)
    _edit(a, ws_id, mia.id, notes="notes from A", voice="low")
    _edit(b, ws_id, mia.id, notes="notes from B", tone="dry wit")
    syncer(a, ws_id).run()
    result = syncer(b, ws_id).run()
    assert [(c.kind, c.mine, c.theirs) for c in result.conflicts] == [
        ("fields", {"notes": "notes from B"}, {"notes": "notes from A"})]
    row = _mia(b, ws_id, mia.id)
    assert (row.notes, row.voice, row.tone) == ("notes from B", "low", "dry wit")
    assert len(syncer(b, ws_id).run().conflicts) == 1  # still open at the next sync
    syncer(b, ws_id).resolve(str(mia.id), "theirs")
    assert syncer(b, ws_id).run().conflicts == [] and syncer(a, ws_id).run().pulled == 1
    for studio in (a, b):
        row = _mia(studio, ws_id, mia.id)
        assert (row.notes, row.voice, row.tone) == ("notes from A", "low", "dry wit")


def test_a_clash_settled_with_theirs_folds_this_desks_row_into_the_servers(
        two_studios: tuple[Studio, Studio]) -> None:
    a, b = two_studios
    ws_id, _ = _shared(a, b)
    ids = {}
    for studio, word in ((a, "from-a"), (b, "from-b")):
        with studio.db.session() as session:
            repo = Repository(session, ws_id)
            ids[word] = repo.add(Influencer(name="Zoe", trigger_word=word)).id
            repo.add(Dataset(influencer_id=ids[word], name=f"set {word}"))
    syncer(a, ws_id).run()
    assert [c.kind for c in syncer(b, ws_id).run().conflicts] == ["clash"]
    syncer(b, ws_id).resolve(str(ids["from-b"]), "theirs")
    assert syncer(b, ws_id).run().pushed == 1  # B's dataset, re-pointed at A's Zoe
    syncer(a, ws_id).run()
    for studio in (a, b):
        zoe = _mia(studio, ws_id, ids["from-a"])
        assert zoe.trigger_word == "from-a"
        with studio.db.session() as session:
            sets = Repository(session, ws_id).list(Dataset)
            assert sorted((d.name, d.influencer_id) for d in sets) == [
                ("set from-a", ids["from-a"]), ("set from-b", ids["from-a"])]


def test_one_picture_imported_on_both_desks_is_settled_and_its_caption_history_follows(
        two_studios: tuple[Studio, Studio]) -> None:
    a, b = two_studios
    ws_id, mia = _shared(a, b)
    with a.db.session() as session:
        ds = Repository(session, ws_id).add(Dataset(influencer_id=mia.id, name="faces"))
    syncer(a, ws_id).run()
    syncer(b, ws_id).run()
    picture = b"the same picture" * 100
    on_a = add_image(a, ws_id, ds.id, "from A", data=picture)
    on_b = add_image(b, ws_id, ds.id, "from B", data=picture)
    captions.set_caption(b, ds, on_b.id, "B: edited")  # a step whose change points at B's row
    syncer(a, ws_id).run()
    result = syncer(b, ws_id).run()
    assert [(c.kind, c.table, c.row_id) for c in result.conflicts] == [
        ("clash", "dataset_images", str(on_b.id))]
    syncer(b, ws_id).resolve(str(on_b.id), "mine")
    assert syncer(b, ws_id).run().pushed == 1  # the change, now pointing at the server's row
    syncer(a, ws_id).run()
    for studio in (a, b):
        assert caption(studio, ws_id, on_a.id) == "B: edited"
        with studio.db.session() as session:
            assert session.scalars(select(CaptionChange.image_id)).all() == [on_a.id]


def test_a_sync_state_from_before_field_digests_merges_fields_after_one_sync(
        two_studios: tuple[Studio, Studio]) -> None:
    a, b = two_studios
    ws_id, mia = _shared(a, b)
    state = b.paths.data_dir / "sync" / f"{ws_id}.json"
    old = json.loads(state.read_text(encoding="utf-8"))
    state.write_text(json.dumps({k: v for k, v in old.items() if k != "bases"}), encoding="utf-8")
    assert syncer(b, ws_id).run().conflicts == []  # in step: the digests are taken now
    assert json.loads(state.read_text(encoding="utf-8"))["bases"].keys() == old["bases"].keys()
    _edit(a, ws_id, mia.id, notes="notes from A")
    _edit(b, ws_id, mia.id, tone="dry wit")
    syncer(a, ws_id).run()
    assert syncer(b, ws_id).run().conflicts == []
    row = _mia(b, ws_id, mia.id)
    assert (row.notes, row.tone) == ("notes from A", "dry wit")


def test_a_name_purged_and_made_again_on_one_desk_replaces_the_old_record_everywhere(
        two_studios: tuple[Studio, Studio]) -> None:
    a, b = two_studios
    ws_id, mia = _shared(a, b, trigger_word="old")
    with a.db.session() as session:
        repo = Repository(session, ws_id)
        repo.trash(repo.get(Influencer, mia.id))
        repo.purge(repo.get(Influencer, mia.id, include_deleted=True))
        new = repo.add(Influencer(name="Mia", trigger_word="new"))
    first = syncer(a, ws_id).run()  # the old row leaves the server before the new one comes
    assert (first.removed, first.pushed, first.conflicts) == (1, 1, [])
    second = syncer(b, ws_id).run()
    assert (second.removed, second.pulled, second.conflicts) == (1, 1, [])
    with b.db.session() as session:
        assert [(i.id, i.trigger_word) for i in Repository(session, ws_id).list(Influencer)] == [
            (new.id, "new")]
