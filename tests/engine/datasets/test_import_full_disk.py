"""An import stopped by a full disk keeps its report: what went in, and the rest with the reason.
The full disk is injected at the store's write (tests/cli/test_broken_disks.py fills a real one)."""
from __future__ import annotations

import errno
from pathlib import Path

import pytest

from studio.engine.core import Studio
from studio.engine.datasets.importer import import_paths
from studio.engine.datasets.service import list_images
from studio.engine.db.models import Dataset
from studio.engine.storage.local import LocalStore, StoredFile
from tests.engine.datasets.corpus import noise, save


def test_a_full_disk_stops_the_import_and_keeps_what_went_in(
        studio: Studio, dataset: Dataset, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for n in range(4):
        save(tmp_path / "in" / f"{n}.png", noise(seed=n))
    real_put = LocalStore.put_bytes
    calls: list[str] = []

    def fills_up(store: LocalStore, data: bytes, key: str) -> StoredFile:
        calls.append(key)
        if len(calls) == 3:
            raise OSError(errno.ENOSPC, "No space left on device", str(store.path(key)))
        return real_put(store, data, key)

    monkeypatch.setattr(LocalStore, "put_bytes", fills_up)
    report = import_paths(studio, dataset, [tmp_path / "in"])
    assert [row.status for row in report.rows] == ["imported", "imported", "refused", "refused"]
    reason = report.rows[2].reason
    assert reason.startswith(f"not imported: The disk holding {studio.paths.data_dir} is full: ")
    assert "MB free" in reason and report.rows[3].reason == reason
    assert len(calls) == 3  # nothing more was tried once the disk was full
    assert {str(image.id) for image in list_images(studio, dataset)} == {
        row.image_id for row in report.rows[:2]}


def test_an_error_that_is_not_the_disk_still_goes_up(
        studio: Studio, dataset: Dataset, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    save(tmp_path / "in" / "a.png", noise())

    def broken(_store: LocalStore, _data: bytes, _key: str) -> StoredFile:
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(LocalStore, "put_bytes", broken)
    with pytest.raises(OSError, match="Input/output error"):
        import_paths(studio, dataset, [tmp_path / "in"])
