"""A read-only data folder, a full disk and an import that fills it, on real small disks: a tmpfs
in a private mount namespace (tests/cli/small_disk.py). One plain line each, never a traceback."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from PIL import Image

from studio.engine.core import Studio
from studio.engine.datasets.service import get_dataset, list_images
from studio.engine.db.models import DatasetImage
from tests.cli.conftest import Cli
from tests.cli.small_disk import can_mount, run_on_small_disk

pytestmark = pytest.mark.skipif(not can_mount(), reason="needs root to mount a tmpfs in a private namespace")
TARGET = ("--influencer", "Mia", "--dataset", "Set A")


@pytest.fixture
def prepared(cli: Cli, data_dir: Path) -> Path:
    assert cli("influencer", "create", "Mia", "--trigger", "mia_v").code == 0
    assert cli("dataset", "create", "--influencer", "Mia", "Set A").code == 0
    return data_dir


def folder_kb(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) // 1024


def the_one_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def test_a_read_only_data_folder_is_one_plain_line(prepared: Path, tmp_path: Path) -> None:
    done = run_on_small_disk(tmp_path, prepared, "influencer", "create", "Zoe",
                             size_kb=folder_kb(prepared) + 2048, mode="ro")
    assert done.returncode == 1
    line = the_one_line(done.stderr)
    assert line.startswith(f"error: The data folder {tmp_path / 'small-disk' / 'data'} is read-only")


def test_a_full_disk_is_one_plain_line_with_the_space_left(prepared: Path, tmp_path: Path) -> None:
    done = run_on_small_disk(tmp_path, prepared, "influencer", "create", "Zoe",
                             size_kb=folder_kb(prepared) + 2048, mode="full")
    assert done.returncode == 1
    line = the_one_line(done.stderr)
    assert line.startswith(f"error: The disk holding {tmp_path / 'small-disk' / 'data'} is full: ")
    assert line.split("is full: ")[1].startswith("0 MB free")


def test_an_import_that_fills_the_disk_keeps_its_report(prepared: Path, tmp_path: Path) -> None:
    pictures = tmp_path / "in"
    pictures.mkdir()
    for n in range(6):  # noise does not compress: each PNG is about 270 KB on the small disk
        Image.frombytes("RGB", (300, 300), os.urandom(300 * 300 * 3)).save(pictures / f"noise{n}.png")
    done = run_on_small_disk(tmp_path, prepared, "dataset", "import", *TARGET, str(pictures), "--json",
                             size_kb=folder_kb(prepared) + 900)
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    report = json.loads(done.stdout)
    imported = [row for row in report["rows"] if row["status"] == "imported"]
    left = [row for row in report["rows"] if row["status"] == "refused"]
    assert imported and left and len(imported) + len(left) == 6
    full = f"not imported: The disk holding {tmp_path / 'small-disk' / 'data'} is full: "
    assert all(row["reason"].startswith(full) for row in left)
    after = Studio.open(tmp_path / "after")  # the folder as the small disk held it
    try:
        ids = {str(image.id) for image in _images(after)}
    finally:
        after.close()
    assert ids == {row["image_id"] for row in imported}  # what the report says went in, did
    assert not list((tmp_path / "after" / "assets").rglob(".*.tmp"))  # no half-written file


def _images(studio: Studio) -> list[DatasetImage]:
    dataset = get_dataset(studio, studio.workspace().id, "Set A", influencer_ref="Mia")
    return list(list_images(studio, dataset))
