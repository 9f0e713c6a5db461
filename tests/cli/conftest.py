"""Runs the command line in this process (fast) against the test's own profile."""
from __future__ import annotations

import contextlib
import io
import json
import subprocess
import sys
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from studio.cli.main import main
from studio.engine.core import Studio
from tests.engine.pipelines.helpers import pipeline_comfy  # noqa: F401 - a fixture for plan run


@dataclass(frozen=True, slots=True)
class Result:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


Cli = Callable[..., Result]


@pytest.fixture
def cli(studio: Studio, data_dir: Path, capsys: pytest.CaptureFixture[str]) -> Cli:
    """``cli("workspace", "list")`` runs ``main`` with ``--data-dir`` of the test's profile."""

    def run(*args: str) -> Result:
        capsys.readouterr()
        code = main(["--data-dir", str(data_dir), *args])
        out, err = capsys.readouterr()
        return Result(code, out, err)

    return run


def cli_here(data_dir: Path, *args: str, input: str = "") -> subprocess.CompletedProcess[str]:
    """As ``tests.conftest.run_cli`` answers, but run in this process on any data folder, stdin read
    from ``input``: no interpreter and imports to start, about a second less a call on this machine."""
    out, err, stdin = io.StringIO(), io.StringIO(), sys.stdin
    sys.stdin = io.StringIO(input)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(["--data-dir", str(data_dir), *args])
    finally:
        sys.stdin = stdin
    return subprocess.CompletedProcess(list(args), code, out.getvalue(), err.getvalue())


def make_image(path: Path, size: tuple[int, int] = (640, 480)) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, (180, 60, 90)).save(path)
    return path


def one_error_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("error: "), err
    return lines[0]


def make_bucket(endpoint: str) -> str:
    """A fresh bucket on the test S3 server (MinIO and moto create none on first write)."""
    import boto3
    name = f"team{uuid.uuid4().hex[:10]}"
    boto3.client("s3", endpoint_url=endpoint, aws_access_key_id="k", aws_secret_access_key="s",
                 region_name="us-east-1").create_bucket(Bucket=name)
    return name
