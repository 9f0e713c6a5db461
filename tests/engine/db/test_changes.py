"""Every write announces what it changed: in this process at once, in others through the log."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from studio.engine.core import Studio
from studio.engine.datasets.service import create_dataset
from studio.engine.db.changes import Change, Entity, Op
from studio.engine.db.database import Database
from studio.engine.db.watcher import ChangeWatcher
from studio.engine.influencers import Persona, create_influencer, trash_influencer, update_influencer
from studio.engine.jobs.status import JobStatus
from studio.engine.media.thumbnails import ThumbnailPayload


def _collect(studio: Studio) -> list[Change]:
    got: list[Change] = []

    def listener(changes: Sequence[Change]) -> None:
        got.extend(changes)
    studio.db.changes.subscribe(listener)
    return got


def test_a_write_is_announced_in_process_after_its_commit(studio: Studio) -> None:
    workspace = studio.workspace()
    got = _collect(studio)
    mia = create_influencer(studio, workspace.id, Persona(name="Mia"))
    assert [(c.entity, c.op, c.workspace_id, c.ids) for c in got] == [
        (Entity.INFLUENCER, Op.CREATED, workspace.id, frozenset({mia.id}))]
    got.clear()
    update_influencer(studio, workspace.id, mia.id, Persona(name="Mia", tone="warm"),
                      expected_version=mia.version)
    trash_influencer(studio, workspace.id, mia.id)
    assert {(c.entity, c.op) for c in got} == {(Entity.INFLUENCER, Op.UPDATED)}


def test_a_rolled_back_write_is_not_announced(studio: Studio) -> None:
    workspace = studio.workspace()
    got = _collect(studio)
    try:
        with studio.db.session() as session:
            session.add(studio_influencer(workspace.id))
            session.flush()
            raise RuntimeError("undo")
    except RuntimeError:
        pass
    assert got == []


def studio_influencer(workspace_id: object) -> object:
    from studio.engine.db.models import Influencer
    return Influencer(workspace_id=workspace_id, name="Undone")


def test_another_process_hears_changes_through_the_watcher(studio: Studio) -> None:
    workspace = studio.workspace()
    elsewhere = Database.open(studio.database_url)  # as another process would open it
    watcher = ChangeWatcher(elsewhere)
    mia = create_influencer(studio, workspace.id, Persona(name="Mia"))
    dataset = create_dataset(studio, workspace.id, mia.id, "faces")
    changes = watcher.poll()
    assert {(c.entity, c.workspace_id, c.ids) for c in changes} == {
        (Entity.INFLUENCER, workspace.id, frozenset({mia.id})),
        (Entity.DATASET, workspace.id, frozenset({dataset.id}))}
    assert watcher.poll() == []  # heard once, though read again within the overlap
    own = ChangeWatcher(studio.db)
    create_influencer(studio, workspace.id, Persona(name="Zoe"))
    assert own.poll() == []  # a process's own writes reach it through its bus, not twice
    elsewhere.dispose()


def test_job_progress_is_not_logged_but_announced_in_process(studio: Studio) -> None:
    workspace = studio.workspace()
    watcher = ChangeWatcher(Database.open(studio.database_url))
    got = _collect(studio)
    job = studio.jobs.submit(workspace.id, "make-thumbnails", ThumbnailPayload(files=()))
    studio.jobs.cancel(workspace.id, job.id)
    assert studio.jobs.get(workspace.id, job.id).status == JobStatus.CANCELED
    assert {c.entity for c in got} == {Entity.JOB}
    assert watcher.poll() == []


def test_watched_files_report_a_change(studio: Studio) -> None:
    watcher = ChangeWatcher(studio.db, files={Entity.SETTINGS: studio.paths.settings_file})
    assert watcher.poll() == []
    studio.settings.llm.base_url = "http://127.0.0.1:9/v1"
    studio.save_settings()
    assert watcher.poll() == [Change(Entity.SETTINGS, None)]


def test_old_log_rows_are_pruned(studio: Studio) -> None:
    workspace = studio.workspace()
    create_influencer(studio, workspace.id, Persona(name="Mia"))
    watcher = ChangeWatcher(studio.db)
    assert watcher.prune(keep=timedelta(days=1)) == 0
    assert watcher.prune(keep=timedelta(seconds=-1)) >= 1
