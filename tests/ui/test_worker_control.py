"""The app's worker supervisor against real worker processes: a headless worker is used as it is
and never stopped from here; the app's own worker can be asked to stop without waiting."""
from __future__ import annotations

from studio.engine.core import Studio
from studio.engine.db.models import WorkerRecord
from studio.engine.worker.app_watch import APP_STARTED
from studio.engine.worker.process import WorkerInfo, local_worker
from studio.ui.worker_control import WorkerSupervisor
from tests.conftest import wait_until


def test_a_headless_worker_is_used_as_it_is(studio: Studio, worker) -> None:
    supervisor = WorkerSupervisor(studio.paths)
    found = supervisor.ensure_running()  # waits for the worker to say who it is
    assert found.pid == worker.proc.pid and found.app == ""
    assert not supervisor.started_here
    assert supervisor.stop() and worker.proc.poll() is None  # someone else's: left running


def test_stop_soon_leaves_the_apps_worker_to_stop_by_itself(studio: Studio) -> None:
    supervisor = WorkerSupervisor(studio.paths)
    supervisor.ensure_running()

    def written() -> WorkerInfo | None:
        found = local_worker(studio.paths)
        return found if found is not None and found.pid else None
    info = wait_until(written, what="the worker to say who it is")
    assert isinstance(info, WorkerInfo)
    assert (info.started_by, info.app) == (APP_STARTED, supervisor.app) and supervisor.started_here
    supervisor.stop_soon()
    assert not supervisor.started_here
    wait_until(lambda: local_worker(studio.paths) is None, what="the worker to stop")
    with studio.db.session() as session:
        record = session.get(WorkerRecord, info.worker_id)
        assert record is not None and record.stopped_at is not None  # it stopped, not killed
