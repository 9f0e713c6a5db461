"""A small PNG of huge dimensions (13000×13000 RGBA, under 1 MB) through the real CLI: refused
with a reason on import and on export, at a peak memory near a small picture's (it was 2.2 GB on
import and 3.4 GB on export), and Pillow's DecompressionBombWarning never printed raw."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, studio_command
from tests.engine.datasets.corpus import huge_png, noise, save

# Runs one command and reports its exit code, its stderr and its peak resident memory (KB).
_MEASURED = ("import json, resource, subprocess, sys\n"
             "done = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
             "print(json.dumps({'code': done.returncode, 'err': done.stderr,\n"
             "                  'peak_kb': resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}))")


def measured(data_dir: Path, *args: str) -> dict[str, object]:
    done = subprocess.run([sys.executable, "-c", _MEASURED, *studio_command(data_dir, *args)],
                          capture_output=True, text=True, timeout=300, cwd=ROOT, check=True)
    return dict(json.loads(done.stdout))


@pytest.fixture(scope="module")
def huge(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return huge_png(tmp_path_factory.mktemp("huge") / "huge.png")


def test_a_huge_png_costs_no_more_memory_than_a_small_one(huge: Path, data_dir: Path,
                                                           tmp_path: Path) -> None:
    small = save(tmp_path / "small.png", noise((1024, 768), seed=3))
    assert measured(data_dir, "influencer", "create", "Mia")["code"] == 0
    assert measured(data_dir, "dataset", "create", "--influencer", "Mia", "Main")["code"] == 0
    importing = ("dataset", "import", "--influencer", "Mia", "--dataset", "Main")
    baseline = measured(data_dir, *importing, str(small))
    refused = measured(data_dir, *importing, str(huge))
    exported = measured(data_dir, "export", "image", str(huge), "--preset", "tiktok",
                        "--out", str(tmp_path / "out"))
    assert baseline["code"] == 0 and refused["code"] == 1 and exported["code"] == 2  # 1: none went in
    for run in (refused, exported):
        assert "DecompressionBombWarning" not in str(run["err"]) and "Traceback" not in str(run["err"])
        assert int(str(run["peak_kb"])) < int(str(baseline["peak_kb"])) + 100_000, run
    assert "too large to decode (13000×13000 pixels take 645 MB in memory" in str(refused["err"])
    assert str(exported["err"]).strip() == (
        "error: huge.png is not exported: too large to decode (13000×13000 pixels take 645 MB in "
        "memory; at most 256 MB).")
