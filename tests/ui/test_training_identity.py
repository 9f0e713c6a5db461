"""Identity on the Training page's monitor: a training whose samples (real photos, written by the
fake sd-scripts) show someone else, then her, then someone else again is read as the page reads
it; the chart carries the identity series, the checkpoint table the medians and the suggestion."""
from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from studio.engine.training.identity import SampleScore, scores_file
from studio.engine.training.jobs import submit_training
from studio.ui.context import StudioContext
from studio.ui.models import training_data as data
from studio.ui.widgets.checkpoint_table import IDENTITY_COLUMN
from studio.ui.widgets.training_monitor import TrainingMonitor
from tests.engine.training.helpers import Setup
from tests.engine.training.identity_helpers import choose_samples, give_references, save, variations
from tests.photos import photo_image


def _trained(setup: Setup, folder: Path, monkeypatch: pytest.MonkeyPatch) -> uuid.UUID:
    give_references(setup, folder)
    her = variations(folder / "pictures")[0]
    others = [save(photo_image(n), folder / "pictures" / f"{n}.png") for n in ("hopper", "luis")]
    choose_samples(monkeypatch, folder, {4: [others[0]], 8: [her], 12: [others[1]]})
    job = submit_training(setup.studio, setup.workspace_id, setup.request(sample_every_n_steps=4))
    setup.run_next()
    assert setup.job(job.id).status == "completed"
    return job.id


def _monitor(qtbot: QtBot) -> TrainingMonitor:
    monitor = TrainingMonitor()
    qtbot.addWidget(monitor)
    monitor.resize(1280, 720)
    monitor.show()
    return monitor


def test_the_monitor_plots_identity_and_marks_the_suggested_checkpoint(
        qtbot: QtBot, context: StudioContext, setup: Setup, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    job_id = _trained(setup, tmp_path, monkeypatch)
    snap = data.snapshot(context, job_id, 0)
    assert [p.step for p in snap.identity.points] == [4, 8, 12]
    monitor = _monitor(qtbot)
    monitor.show_snapshot(snap, new_selection=True)
    chart = [(x, round(y, 3)) for x, y in monitor.chart.identity_points()]
    assert chart == [(p.step, p.median) for p in snap.identity.points]
    assert chart[1][1] > 0.5 > max(chart[0][1], chart[2][1])
    assert "identity" in [m.series().name().split(" ")[0] for m in monitor.chart.chart_.legend().markers()]
    table = monitor.checkpoints
    items = [table.topLevelItem(i) for i in range(table.topLevelItemCount())]
    texts = [item.text(IDENTITY_COLUMN) if item else "" for item in items]
    assert [row.suggested for row in table.rows()] == [False, True, False, False]
    assert texts[1].endswith("◆ suggested") and texts[1].startswith(f"{chart[1][1]:.2f} (1)")
    line = monitor.identity_line.text()
    assert line.startswith(f"Identity {chart[2][1]:.2f} at step 12 (median of 1 sample)")
    assert "suggested checkpoint: mia-main-v1 step 8" in line
    labels = [monitor.samples.item(i).text() for i in range(monitor.samples.count())]
    assert labels == [f"step {p.step} #0 · {p.median:.2f}" for p in snap.identity.points]


def test_without_references_the_monitor_says_why_once(
        qtbot: QtBot, context: StudioContext, setup: Setup) -> None:
    job = submit_training(setup.studio, setup.workspace_id, setup.request())
    setup.run_next()
    monitor = _monitor(qtbot)
    monitor.show_snapshot(data.snapshot(context, job.id, 0), new_selection=True)
    assert monitor.identity_line.text() == "No reference faces for Mia: identity is not scored"
    assert monitor.chart.identity_points() == []


def test_a_musubi_training_says_identity_is_not_available(tmp_path: Path) -> None:
    row = data.TrainingRow(id=uuid.uuid4(), title="t", status=data.JobStatus.PROCESSING, progress=0.1,
                           stage="", message="", error="", output_name="mia", root=tmp_path,
                           total_steps=10, family="qwen_image")
    assert data.identity_state(row).note.startswith("Identity is not available for this family")


def test_a_sample_without_a_face_is_said_so(tmp_path: Path) -> None:
    scores_file(tmp_path).write_text(
        "".join(f"{line}\n" for line in (
            '{"name": "m_000004_00_20260216120000.png", "step": 4, "score": 0.8, "faces": 1}',
            '{"name": "m_000008_00_20260216120000.png", "step": 8, "faces": 0}')))
    row = data.TrainingRow(id=uuid.uuid4(), title="t", status=data.JobStatus.PROCESSING, progress=0.5,
                           stage="", message="", error="", output_name="m", root=tmp_path, total_steps=10)
    state = data.identity_state(row)
    assert (state.latest, state.note) == (None, "no face in the latest sample")
    assert [(p.step, p.median) for p in state.points] == [(4, 0.8)]
    assert SampleScore.from_dict({"name": "x", "step": 1}).faces == 0
