"""``make fuzz``: a generated hostile corpus imported through the real engine and the real CLI.

Every file's fate is asserted (imported, duplicate, or refused with its reason), nothing is
written outside the data folder, and the CLI's report is one plain line per file: no traceback,
no raw escape sequence, no line forged by a newline in a name.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from studio.engine.core import Studio
from studio.engine.datasets.importer import ImportReport, import_paths
from studio.engine.datasets.service import list_images
from studio.engine.db.models import Dataset
from tests.conftest import run_cli
from tests.engine.datasets.hostile import hostile_corpus

pytestmark = pytest.mark.slow

Tree = dict[str, tuple[int, int, int]]


def snapshot(root: Path, skip: Path) -> Tree:
    """Every entry under ``root`` but ``skip``: its mode, size and modification time."""
    found: Tree = {}
    for folder, names, files in os.walk(root):
        names[:] = [n for n in names if Path(folder, n) != skip]
        for name in names + files:
            info = Path(folder, name).lstat()
            found[os.path.join(folder, name)] = (info.st_mode, info.st_size, info.st_mtime_ns)
    return found


def fates(rows: list[dict[str, object]], drop: Path) -> dict[str, tuple[str, str]]:
    prefix = f"{drop}/"
    return {str(r["source"]).removeprefix(prefix): (str(r["status"]), str(r["reason"])) for r in rows}


def check_fates(got: dict[str, tuple[str, str]], expected: dict[str, tuple[str, str]]) -> None:
    assert set(got) == set(expected)
    for source, (status, reason) in expected.items():
        assert got[source][0] == status and reason in got[source][1], (source, got[source])


def test_the_engine_gives_every_hostile_file_its_fate_and_writes_only_in_the_data_folder(
        studio: Studio, dataset: Dataset, tmp_path: Path) -> None:
    expected = hostile_corpus(tmp_path / "corpus")
    drop = tmp_path / "corpus" / "drop"
    before = snapshot(tmp_path, skip=studio.paths.data_dir)

    report = import_paths(studio, dataset, [drop])

    check_fates(fates(ImportReport.to_dict(report)["rows"], drop), expected)
    assert snapshot(tmp_path, skip=studio.paths.data_dir) == before
    assert not Path("/etc/absolute.jpg").exists()
    images = list_images(studio, dataset)
    assert len(images) == report.imported
    own = f"datasets/{dataset.workspace_id}/{dataset.id}/"
    assert all(image.storage_key.startswith(own) for image in images)
    stored = {p for p in (studio.paths.assets_dir).rglob("*") if p.is_file()}
    assert stored == {studio.paths.assets_dir / image.storage_key for image in images}


def test_the_cli_reports_every_hostile_file_on_one_plain_line(tmp_path: Path) -> None:
    expected = hostile_corpus(tmp_path / "corpus")
    drop = tmp_path / "corpus" / "drop"
    data = tmp_path / "data"
    assert run_cli(data, "influencer", "create", "Mia").returncode == 0
    assert run_cli(data, "dataset", "create", "--influencer", "Mia", "Main").returncode == 0
    before = snapshot(tmp_path, skip=data)
    importing = ("dataset", "import", "--influencer", "Mia", "--dataset", "Main", str(drop))

    as_json = run_cli(data, *importing, "--json", timeout=300)
    assert as_json.returncode == 0, as_json.stderr
    check_fates(fates(json.loads(as_json.stdout)["rows"], drop), expected)
    again = run_cli(data, *importing, timeout=300)  # everything is a duplicate or refused now
    assert snapshot(tmp_path, skip=data) == before

    for output in (as_json.stdout + as_json.stderr, again.stdout + again.stderr):
        assert "Traceback" not in output and "\x1b" not in output and "\x07" not in output
        assert "DecompressionBombWarning" not in output
    lines = again.stdout.splitlines()
    refused = sum(1 for status, _ in expected.values() if status == "refused")
    assert lines[0].startswith("imported 0, duplicate ") and lines[0].endswith(f"refused {refused}")
    assert all(line.startswith(("refused  ", "note     ")) for line in lines[1:]), lines
    assert len(lines) == 1 + refused  # a newline in a name forged no line
