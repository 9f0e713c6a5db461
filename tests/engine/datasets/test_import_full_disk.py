"""An import stopped by a full disk keeps its report: what went in, and the rest with the reason.
The full disk is injected where an original is kept or staged (tests/cli/test_broken_disks.py
fills a real one)."""
from __future__ import annotations

import errno
from pathlib import Path

import pytest

from studio.engine.core import Studio
from studio.engine.datasets import recorder
from studio.engine.datasets.importer import import_paths
from studio.engine.datasets.service import list_images
from studio.engine.datasets.sources import Entry
from studio.engine.datasets.staging import Staging
from studio.engine.db.models import Dataset
from tests.engine.datasets.corpus import noise, save


def test_a_full_disk_stops_the_import_and_keeps_what_went_in(
        studio: Studio, dataset: Dataset, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for n in range(4):
        save(tmp_path / "in" / f"{n}.png", noise(seed=n))
    real_keep = recorder.keep_original
    calls: list[Path] = []

    def fills_up(staging: Staging, staged: Path, target: Path) -> None:
        calls.append(target)
        if len(calls) == 3:
            raise OSError(errno.ENOSPC, "No space left on device", str(target))
        real_keep(staging, staged, target)

    monkeypatch.setattr(recorder, "keep_original", fills_up)
    report = import_paths(studio, dataset, [tmp_path / "in"])
    assert [row.status for row in report.rows] == ["imported", "imported", "refused", "refused"]
    reason = report.rows[2].reason
    assert reason.startswith(f"not imported: The disk holding {studio.paths.data_dir} is full: ")
    assert "MB free" in reason and report.rows[3].reason == reason
    # A file already handed to the writers may be stored, but no row names it.
    assert [path.exists() for path in calls[:3]] == [True, True, False]
    assert {str(image.id) for image in list_images(studio, dataset)} == {
        row.image_id for row in report.rows[:2]}
    assert not (calls[0].parent / ".staging").exists()  # no staged copy left


def test_an_error_that_is_not_the_disk_still_goes_up(
        studio: Studio, dataset: Dataset, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    save(tmp_path / "in" / "a.png", noise())

    def broken(_staging: Staging, _staged: Path, _target: Path) -> None:
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(recorder, "keep_original", broken)
    with pytest.raises(OSError, match="Input/output error"):
        import_paths(studio, dataset, [tmp_path / "in"])


def test_a_full_disk_met_while_reading_keeps_the_pictures_before_it(
        studio: Studio, dataset: Dataset, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The files before it are finished (decoded, stored, committed), neither lost nor reported
    twice, however many were in flight; the one the disk refused is reported not imported."""
    count = recorder.BATCH - 1  # all in one batch, none committed when the disk fills
    for n in range(count):
        save(tmp_path / "in" / f"{n}.png", noise(seed=n))
    real_read = recorder._read

    def fills_up(entry: Entry, staging: Staging) -> recorder.Read:
        if entry.source_name == f"{count - 1}.png":
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_read(entry, staging)

    monkeypatch.setattr(recorder, "_read", fills_up)
    report = import_paths(studio, dataset, [tmp_path / "in"])
    statuses = [row.status for row in report.rows]
    kept = statuses.count("imported")  # every file before the one the disk refused
    assert kept == count - 1 and statuses == ["imported"] * kept + ["refused"]
    assert all(row.reason.startswith("not imported: ") for row in report.rows[kept:])
    assert {str(image.id) for image in list_images(studio, dataset)} == {
        row.image_id for row in report.rows[:kept]}
