"""The Workers view on the Queue page, with a real worker process, and the Worker column."""
from __future__ import annotations

import socket
from pathlib import Path

from studio.engine.core import Studio
from studio.engine.jobs.status import JobStatus
from studio.engine.media.thumbnails import ThumbnailPayload
from studio.engine.server.workers import live_workers, machine_gpu
from studio.ui.context import StudioContext
from studio.ui.models.jobs import WORKER
from studio.ui.pages.queue import QueuePage
from tests.ui.helpers import make_images


def test_the_queue_page_lists_live_workers_and_who_ran_each_job(
        qtbot, tmp_path: Path, studio: Studio, context: StudioContext, worker) -> None:
    # The worker holds its lock a moment before its first heartbeat row is written.
    qtbot.waitUntil(lambda: bool(live_workers(studio.db, context.workspace_id, timeout_s=3.0)),
                    timeout=10_000)
    page = QueuePage(context)
    qtbot.addWidget(page)
    page.resize(1100, 520)
    page.show()
    host = socket.gethostname()
    qtbot.waitUntil(lambda: page.workers.table.rowCount() == 1, timeout=10_000)
    cells = [page.workers.table.item(0, c).text() for c in range(page.workers.table.columnCount())]
    assert cells[0] == host and cells[1] == str(worker.proc.pid)
    assert cells[2] == (machine_gpu() or "none found")
    assert {"generation", "training", "general"} <= set(cells[3].split(", "))  # all queues it serves
    assert cells[5] == "idle"
    assert "1 live" in page.workers.title.text()

    files = make_images(tmp_path / "pics", 3, size=300)
    job = studio.jobs.submit(context.workspace_id, "make-thumbnails",
                             ThumbnailPayload(files=tuple(map(Path, files))), title="Three pictures")
    qtbot.waitUntil(lambda: (page.model.job(job.id) is not None
                             and page.model.job(job.id).status is JobStatus.COMPLETED), timeout=30_000)
    qtbot.waitUntil(lambda: page.select_job(job.id))
    row = page.table.selectionModel().selectedRows()[0].row()
    assert page.proxy.index(row, WORKER).data() == f"{host} ({worker.proc.pid})"

    worker.stop()
    page.workers.on_health_changed({})  # the health round that finds the worker gone
    qtbot.waitUntil(lambda: page.workers.table.rowCount() == 0, timeout=10_000)
    assert "none live" in page.workers.title.text()
