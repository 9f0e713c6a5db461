"""The queue page against a real worker process: progress, failure and retry, cancel, filter.

The page reads nothing itself: every row comes from the context's job hub."""
from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHeaderView

from studio.engine.core import Studio
from studio.engine.db.types import utcnow
from studio.engine.jobs.snapshot import JobSnapshot
from studio.engine.jobs.status import JobStatus
from studio.engine.media.thumbnails import ThumbnailPayload
from studio.ui.context import StudioContext
from studio.ui.models.jobs import STATUS, TITLE, JobTableModel, format_duration
from studio.ui.pages.queue import QueuePage
from tests.ui.helpers import make_images


@pytest.fixture
def page(qtbot, context: StudioContext) -> Iterator[QueuePage]:
    widget = QueuePage(context)
    qtbot.addWidget(widget)
    widget.resize(1000, 400)
    widget.show()
    yield widget


def status_of(page: QueuePage, job_id: uuid.UUID) -> JobStatus | None:
    row = page.model.job(job_id)
    return row.status if row else None


def select(qtbot, page: QueuePage, job_id: uuid.UUID) -> None:
    qtbot.waitUntil(lambda: page.select_job(job_id))


def test_a_thumbnail_job_is_watched_to_completion(qtbot, tmp_path: Path, studio: Studio,
                                                  context: StudioContext, page: QueuePage,
                                                  worker) -> None:
    files = make_images(tmp_path / "pics", 6, size=400)
    job = studio.jobs.submit(context.workspace_id, "make-thumbnails",
                             ThumbnailPayload(files=tuple(map(Path, files))), title="Six pictures")
    qtbot.waitUntil(lambda: status_of(page, job.id) is JobStatus.COMPLETED, timeout=30_000)
    row = page.model.job(job.id)
    assert row is not None and row.progress == 1.0 and row.attempts == 1
    assert row.message.startswith("Done") or row.stage == "thumbnails"
    assert row.duration_s() is not None
    shown = [page.proxy.index(0, c).data() for c in range(page.proxy.columnCount())]
    assert shown[0] == "Six pictures" and shown[1] == "general" and shown[2] == "completed"
    result = studio.jobs.get(context.workspace_id, job.id).result
    assert result is not None and len(result["thumbnails"]) == 6
    assert all(Path(p).is_file() for paths in result["thumbnails"].values() for p in paths)
    assert page.summary.text() == "0 running, 0 waiting, 1 in all"


def test_a_failed_job_is_retried_after_its_file_appears(qtbot, tmp_path: Path, studio: Studio,
                                                        context: StudioContext, page: QueuePage,
                                                        worker) -> None:
    missing = tmp_path / "later" / "portrait.jpg"
    job = studio.jobs.submit(context.workspace_id, "make-thumbnails", ThumbnailPayload(files=(missing,)))
    qtbot.waitUntil(lambda: status_of(page, job.id) is JobStatus.FAILED, timeout=30_000)
    assert "file not found" in page.model.job(job.id).error
    select(qtbot, page, job.id)
    assert page.retry_button.isEnabled() and not page.cancel_button.isEnabled()

    make_images(missing.parent, 1, size=200, prefix="portrait")
    (missing.parent / "portrait-000.jpg").rename(missing)
    qtbot.mouseClick(page.retry_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: status_of(page, job.id) is JobStatus.COMPLETED, timeout=30_000)
    assert page.model.job(job.id).error == ""
    assert studio.jobs.get(context.workspace_id, job.id).status == JobStatus.COMPLETED
    assert not page.retry_button.isEnabled()


def test_a_waiting_job_is_canceled_and_the_filter_shows_it(qtbot, studio: Studio,
                                                           context: StudioContext,
                                                           page: QueuePage) -> None:
    # No worker runs here, so the job stays pending until the Cancel button is clicked.
    job = studio.jobs.submit(context.workspace_id, "make-thumbnails", ThumbnailPayload(files=(Path("/x.png"),)))
    qtbot.waitUntil(lambda: status_of(page, job.id) is JobStatus.PENDING)
    select(qtbot, page, job.id)
    assert page.cancel_button.isEnabled() and not page.retry_button.isEnabled()
    qtbot.mouseClick(page.cancel_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: status_of(page, job.id) is JobStatus.CANCELED)
    assert studio.jobs.get(context.workspace_id, job.id).status == JobStatus.CANCELED
    qtbot.waitUntil(page.retry_button.isEnabled)

    page.filter.setCurrentIndex(page.filter.findData(JobStatus.COMPLETED.value))
    assert page.proxy.rowCount() == 0
    page.filter.setCurrentIndex(page.filter.findData(JobStatus.CANCELED.value))
    assert page.proxy.rowCount() == 1 and page.proxy.index(0, STATUS).data() == "canceled"
    page.filter.setCurrentIndex(page.filter.findData(""))
    assert page.proxy.rowCount() == 1


def test_the_model_updates_changed_rows_in_place(qtbot) -> None:
    now = utcnow()

    def row(job_id: uuid.UUID, status: JobStatus, progress: float, age_s: int) -> JobSnapshot:
        created = now - timedelta(seconds=age_s)
        return JobSnapshot(id=job_id, workspace_id=uuid.uuid4(), type="make-thumbnails", title="t",
                           queue="general", status=status, progress=progress, stage="",
                           message="", error="", attempts=0, max_attempts=4, result=None,
                           created_at=created, started_at=None, finished_at=None,
                           updated_at=created, version=1)

    a, b = uuid.uuid4(), uuid.uuid4()
    model = JobTableModel()
    model.reset([row(a, JobStatus.PENDING, 0.0, 10)])
    with qtbot.waitSignal(model.dataChanged):
        model.upsert([row(a, JobStatus.PROCESSING, 0.5, 10)])
    assert model.rowCount() == 1 and model.job(a).progress == 0.5
    with qtbot.waitSignal(model.rowsInserted):
        model.upsert([row(b, JobStatus.PENDING, 0.0, 1), row(a, JobStatus.PROCESSING, 0.5, 10)])
    assert [r.id for r in model.rows()] == [b, a]  # newest on top
    assert format_duration(75) == "1 min 15 s" and format_duration(None) == ""


@pytest.mark.parametrize("width", [1100, 1700])
def test_the_job_name_gets_the_spare_width(qtbot, studio: Studio, context: StudioContext,
                                           page: QueuePage, width: int) -> None:
    job = studio.jobs.submit(context.workspace_id, "make-thumbnails",
                             ThumbnailPayload(files=(Path("/nowhere.png"),)), title="Portrait thumbnails: Mira")
    qtbot.waitUntil(lambda: page.model.job(job.id) is not None)
    page.resize(width, 500)
    qtbot.waitUntil(lambda: page.table.viewport().width() > width - 100)
    header = page.table.horizontalHeader()
    widths = [header.sectionSize(column) for column in range(header.count())]
    assert widths[TITLE] == max(widths), widths
    assert header.sectionResizeMode(TITLE) == QHeaderView.ResizeMode.Stretch
    assert sum(widths) <= page.table.viewport().width()  # nothing scrolls sideways
    assert not page.table.horizontalScrollBar().isVisible()


def test_short_columns_fit_a_longer_value_after_a_change(qtbot, page: QueuePage) -> None:
    now = utcnow()

    def row(status: JobStatus, worker: str) -> JobSnapshot:
        return JobSnapshot(id=job_id, workspace_id=uuid.uuid4(), type="make-thumbnails", title="t",
                           queue="general", status=status, progress=0.0, stage="", message="", error="",
                           attempts=1, max_attempts=4, result=None, created_at=now, started_at=None,
                           finished_at=None, updated_at=now, version=1, worker_id=worker)

    job_id = uuid.uuid4()
    page.model.reset([row(JobStatus.PENDING, "")])
    header = page.table.horizontalHeader()
    needed = page.table.fontMetrics().horizontalAdvance(JobStatus.PROCESSING.value)
    page.model.upsert([row(JobStatus.PROCESSING, "render-box:4242:abcd1234")])
    qtbot.waitUntil(lambda: header.sectionSize(STATUS) >= needed)  # fitted once the change settles
    assert header.sectionResizeMode(STATUS) == QHeaderView.ResizeMode.Interactive  # not at every change
