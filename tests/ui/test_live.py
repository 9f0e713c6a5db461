"""The live state and the job hub: what other processes and this one change reaches the views."""
from __future__ import annotations

from pathlib import Path

from pytestqt.qtbot import QtBot

from studio.engine.core import Studio
from studio.engine.db.changes import ChangeSet, Entity
from studio.engine.influencers import Persona, create_influencer
from studio.engine.jobs.snapshot import JobSnapshot
from studio.engine.jobs.status import JobStatus
from studio.engine.media.thumbnails import ThumbnailPayload
from studio.ui.context import StudioContext
from tests.conftest import run_cli


def test_a_write_in_another_process_is_heard(qtbot: QtBot, context: StudioContext,
                                             data_dir: Path) -> None:
    with qtbot.waitSignal(context.live.changed, timeout=5000,
                          check_params_cb=lambda c: c.touches(Entity.INFLUENCER)) as heard:
        done = run_cli(data_dir, "influencer", "create", "Mia")
        assert done.returncode == 0, done.stderr
    changes: ChangeSet = heard.args[0]
    assert changes.touches(Entity.INFLUENCER, workspace_id=context.workspace_id)


def test_a_write_in_this_process_is_heard_once_per_turn(qtbot: QtBot, context: StudioContext,
                                                        studio: Studio) -> None:
    heard: list[ChangeSet] = []
    context.live.changed.connect(heard.append)
    create_influencer(studio, context.workspace_id, Persona(name="Mia"))
    create_influencer(studio, context.workspace_id, Persona(name="Zoe"))
    qtbot.waitUntil(lambda: bool(heard), timeout=2000)
    assert len(heard) == 1 and len(heard[0].ids(Entity.INFLUENCER)) == 2


def test_settings_saved_elsewhere_are_read_again(qtbot: QtBot, context: StudioContext,
                                                 data_dir: Path, studio: Studio) -> None:
    with qtbot.waitSignal(context.live.changed, timeout=5000,
                          check_params_cb=lambda c: c.touches(Entity.SETTINGS)):
        done = run_cli(data_dir, "settings", "set", "llm.base_url", "http://127.0.0.1:9/v1")
        assert done.returncode == 0, done.stderr
    assert studio.settings.llm.base_url == "http://127.0.0.1:9/v1"


def test_the_hub_reports_new_changed_and_finished_jobs(qtbot: QtBot, context: StudioContext,
                                                       studio: Studio) -> None:
    qtbot.waitUntil(lambda: context.jobs.loaded, timeout=3000)
    seen: list[JobSnapshot] = []
    context.jobs.jobs_changed.connect(seen.extend)
    job = studio.jobs.submit(context.workspace_id, "make-thumbnails", ThumbnailPayload(files=()))
    qtbot.waitUntil(lambda: context.jobs.snapshot(job.id) is not None, timeout=3000)
    assert context.jobs.snapshot(job.id).status is JobStatus.PENDING
    with qtbot.waitSignal(context.jobs.job_finished, timeout=3000) as finished:
        studio.jobs.cancel(context.workspace_id, job.id)
    assert finished.args[0].id == job.id and finished.args[0].status is JobStatus.CANCELED
    assert [s.status for s in seen if s.id == job.id] == [JobStatus.PENDING, JobStatus.CANCELED]
