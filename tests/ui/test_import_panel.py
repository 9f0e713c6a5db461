"""The import report lists refused files and, beside them, imported files whose caption changed."""
from __future__ import annotations

import uuid

from studio.engine.datasets.importer import ImportReport, ImportRow
from studio.engine.db.types import utcnow
from studio.engine.jobs.snapshot import JobSnapshot
from studio.engine.jobs.status import JobStatus
from studio.ui.widgets.import_panel import ImportPanel


def _done(report: ImportReport) -> JobSnapshot:
    now = utcnow()
    return JobSnapshot(id=uuid.uuid4(), workspace_id=uuid.uuid4(), type="import-dataset", title="Import",
                       queue="general", status=JobStatus.COMPLETED, progress=1.0, stage="", message="",
                       error="", attempts=1, max_attempts=4, result=report.to_dict(), created_at=now,
                       started_at=now, finished_at=now, updated_at=now, version=3)


def test_caption_notes_are_listed_with_the_refusals(qtbot) -> None:
    panel = ImportPanel()
    qtbot.addWidget(panel)
    report = ImportReport(rows=(
        ImportRow("drop/a.png", "imported", image_id="1"),
        ImportRow("drop/b.png", "imported", image_id="2",
                  note="caption cleaned: 1 control character (NUL) removed"),
        ImportRow("drop/c.jpg", "refused", "not an image"),
    ))
    panel.show_import_report(_done(report))
    assert panel.refused() == [("drop/b.png", "caption cleaned: 1 control character (NUL) removed"),
                               ("drop/c.jpg", "not an image")]
    assert panel.counts.text() == "Import: 2 imported, 1 refused."
