"""Workspace scoping, optimistic versions and the trash."""
from __future__ import annotations

from pathlib import Path

import pytest

from studio.engine.core import Studio
from studio.engine.db.models import Influencer, Job
from studio.engine.db.repositories import Repository, Workspaces
from studio.engine.errors import Conflict, InvalidInput, NotFound
from studio.engine.media.thumbnails import ThumbnailPayload


@pytest.fixture
def two_workspaces(studio: Studio):  # type: ignore[no-untyped-def]
    with studio.db.session() as session:
        a = Workspaces(session).create("Alpha")
        b = Workspaces(session).create("Beta")
        inf = Repository(session, a.id).add(Influencer(name="Mia"))
        return a, b, inf


def test_another_workspaces_row_is_not_found(studio: Studio, two_workspaces) -> None:  # type: ignore[no-untyped-def]
    a, b, inf = two_workspaces
    with studio.db.session() as session:
        assert Repository(session, a.id).get(Influencer, inf.id).name == "Mia"
        with pytest.raises(NotFound):
            Repository(session, b.id).get(Influencer, inf.id)
        assert Repository(session, b.id).list(Influencer) == []
        assert Repository(session, b.id).find(Influencer, name="Mia") is None
        with pytest.raises(NotFound):
            Repository(session, b.id).get(Influencer, "not-a-uuid")


def test_jobs_are_scoped_too(studio: Studio, two_workspaces) -> None:  # type: ignore[no-untyped-def]
    a, b, _ = two_workspaces
    job = studio.jobs.submit(a.id, "make-thumbnails", ThumbnailPayload(files=(Path("x.png"),)))
    assert studio.jobs.get(a.id, job.id).id == job.id
    with pytest.raises(NotFound):
        studio.jobs.get(b.id, job.id)
    with pytest.raises(NotFound):
        studio.jobs.cancel(b.id, job.id)
    assert studio.jobs.list(b.id) == []


def test_stale_edit_is_a_conflict_not_an_overwrite(studio: Studio, two_workspaces) -> None:  # type: ignore[no-untyped-def]
    a, _, inf = two_workspaces
    with studio.db.session() as session:
        repo = Repository(session, a.id)
        repo.update(repo.get(Influencer, inf.id), expected_version=1, tone="warm")
    with studio.db.session() as session:
        repo = Repository(session, a.id)
        with pytest.raises(Conflict, match="changed elsewhere"):
            repo.update(repo.get(Influencer, inf.id), expected_version=1, tone="cold")
    with studio.db.session() as session:
        assert Repository(session, a.id).get(Influencer, inf.id).tone == "warm"


def test_concurrent_sessions_cannot_both_write(studio: Studio, two_workspaces) -> None:  # type: ignore[no-untyped-def]
    a, _, inf = two_workspaces
    first, second = studio.db.sessions(), studio.db.sessions()
    try:
        one = Repository(first, a.id).get(Influencer, inf.id)
        two = Repository(second, a.id).get(Influencer, inf.id)
        Repository(first, a.id).update(one, tone="one")
        first.commit()
        with pytest.raises(Conflict):
            Repository(second, a.id).update(two, tone="two")
    finally:
        first.close()
        second.close()


def test_trash_restore_and_purge(studio: Studio, two_workspaces) -> None:  # type: ignore[no-untyped-def]
    a, b, inf = two_workspaces
    with studio.db.session() as session:
        repo = Repository(session, a.id)
        repo.trash(repo.get(Influencer, inf.id))
        assert repo.list(Influencer) == []
        with pytest.raises(NotFound, match="trash"):
            repo.get(Influencer, inf.id)
        assert [r.id for r in repo.trashed()] == [inf.id]
        assert Repository(session, b.id).trashed() == []
        repo.restore(repo.get(Influencer, inf.id, include_deleted=True))
        assert [i.name for i in repo.list(Influencer)] == ["Mia"]
        with pytest.raises(InvalidInput):
            repo.purge(repo.get(Influencer, inf.id))  # purge only from the trash
        repo.purge(repo.trash(repo.get(Influencer, inf.id)))
        with pytest.raises(NotFound):
            repo.get(Influencer, inf.id, include_deleted=True)
    with pytest.raises(InvalidInput), studio.db.session() as session:
        Repository(session, a.id).trash(Repository(session, a.id).add(Job(type="t", queue="general")))


def test_workspace_names_are_unique_and_clean(studio: Studio) -> None:
    with studio.db.session() as session:
        repo = Workspaces(session)
        assert repo.create("  My   studio ").name == "My studio"
        with pytest.raises(Conflict):
            repo.create("My studio")
        with pytest.raises(InvalidInput):
            repo.create("   ")
