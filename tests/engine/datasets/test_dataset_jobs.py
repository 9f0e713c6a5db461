"""The import and analysis jobs through the real runner: progress, results, failures in one line."""
from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from studio.engine.core import Studio
from studio.engine.datasets.jobs import submit_analysis, submit_import
from studio.engine.datasets.service import list_images
from studio.engine.db.models import Dataset, Job
from studio.engine.errors import InvalidInput
from studio.engine.jobs.context import JobContext
from tests.conftest import WorkerProcess, run_next_task, wait_until
from tests.engine.datasets.corpus import astronaut, noise, save, scene


@pytest.fixture
def progress_seen(monkeypatch: pytest.MonkeyPatch) -> list[tuple[float, str | None, str]]:
    seen: list[tuple[float, str | None, str]] = []
    original = JobContext.progress

    def spy(self: JobContext, fraction: float, *, stage: str | None = None, message: str = "") -> None:
        seen.append((fraction, stage, message))
        original(self, fraction, stage=stage, message=message)
    monkeypatch.setattr(JobContext, "progress", spy)
    return seen


def _run_next(studio: Studio) -> None:
    run_next_task(studio, "general")


def _done(studio: Studio, job: Job) -> Job:
    return studio.jobs.get(job.workspace_id, job.id)


def test_import_then_analysis_jobs_report_progress_and_results(
        studio: Studio, dataset: Dataset, tmp_path: Path,
        progress_seen: list[tuple[float, str | None, str]]) -> None:
    drop = tmp_path / "drop"
    save(drop / "face.jpg", astronaut(), quality=90)
    save(drop / "copy.png", astronaut().resize((256, 256)))
    save(drop / "other.png", scene(seed=3))
    (drop / "broken.jpg").write_bytes(b"\xff\xd8\xff nope")
    job = submit_import(studio, dataset, [drop])
    assert job.payload == {"dataset_id": str(dataset.id), "paths": [str(drop)], "version": 1,
                           "files": [], "shown": [], "refused": []}  # solo: read where they are
    _run_next(studio)
    done = _done(studio, job)
    assert done.status == "completed", done.error
    assert (done.result["imported"], done.result["refused"]) == (3, 1)
    assert [r["status"] for r in done.result["rows"]] == ["refused", "imported", "imported", "imported"]
    assert done.stage == "import" and done.progress == 1.0
    fractions = [f for f, _, _ in progress_seen]
    assert fractions[0] == 0.0 and fractions[-1] == 1.0 and len(fractions) == 5
    assert progress_seen[2][2] == "2 of 4: copy.png"

    progress_seen.clear()
    analysis = submit_analysis(studio, dataset)
    _run_next(studio)
    result = _done(studio, analysis).result
    assert _done(studio, analysis).status == "completed"
    assert result["analyzed"] == 0 and result["skipped"] == 3  # analysed as they were imported
    assert result["faces"]["one"] >= 1 and result["near_duplicate_groups"] == 1
    assert set(result) >= {"analyzed", "skipped", "faces", "near_duplicate_groups", "blurry"}
    assert len(progress_seen) == 4 and progress_seen[-1][0] == 1.0
    assert all(i.analyzed_at is not None and i.crop for i in list_images(studio, dataset))


def test_an_import_of_a_path_gone_before_it_ran_fails_in_one_line(
        studio: Studio, dataset: Dataset, tmp_path: Path) -> None:
    folder = tmp_path / "soon gone"
    save(folder / "a.png", noise(seed=1))
    job = submit_import(studio, dataset, [folder])
    shutil.rmtree(folder)
    _run_next(studio)
    failed = _done(studio, job)
    assert failed.status == "failed"
    assert failed.error == f"Nothing could be imported: {folder}: not found."


def test_submit_refuses_what_cannot_run(studio: Studio, dataset: Dataset, tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="Not found: .*nowhere.jpg"):
        submit_import(studio, dataset, [tmp_path / "nowhere.jpg"])
    with pytest.raises(InvalidInput, match="Nothing to import"):
        submit_import(studio, dataset, [])
    with pytest.raises(InvalidInput, match="512, 768, 1024"):
        submit_analysis(studio, dataset, target=640)
    assert studio.jobs.list(dataset.workspace_id) == []


def test_analysis_of_chosen_images_only(studio: Studio, dataset: Dataset, tmp_path: Path) -> None:
    drop = tmp_path / "drop"
    for seed in range(3):
        save(drop / f"{seed}.png", scene(seed=seed))
    submit_import(studio, dataset, [drop])
    _run_next(studio)
    imported = list_images(studio, dataset)
    first = imported[0]
    job = submit_analysis(studio, dataset, image_ids=[first.id], target=768, force=True)
    _run_next(studio)
    result: dict[str, Any] = _done(studio, job).result
    assert result["analyzed"] == 1 and result["skipped"] == 0
    again = [i.analyzed_at != before.analyzed_at for i, before in zip(list_images(studio, dataset),
                                                                       imported, strict=True)]
    assert again == [True, False, False]
    assert [i.crop["target"] for i in list_images(studio, dataset)] == [768, 512, 512]
    assert list_images(studio, dataset)[0].crop["target"] == 768


def test_a_real_worker_runs_an_import(studio: Studio, dataset: Dataset, tmp_path: Path,
                                      worker: WorkerProcess) -> None:
    image = save(tmp_path / "one.jpg", noise((200, 100), seed=5), quality=90)
    job = submit_import(studio, dataset, [image])
    wait_until(lambda: _done(studio, job).status in ("completed", "failed"), timeout=60,
               what="the import job")
    done = _done(studio, job)
    assert done.status == "completed" and done.result["imported"] == 1
    [row] = list_images(studio, dataset)
    assert (row.width, row.height) == (200, 100)
