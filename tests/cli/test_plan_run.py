"""``plan run ITEM``: with no worker up, the pipeline and each of its steps run in this process."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from studio.engine.core import Studio
from tests.cli.conftest import Cli, one_error_line
from tests.engine.pipelines.helpers import make_item


@pytest.mark.usefixtures("pipeline_comfy")
def test_plan_run_produces_the_post_here(cli: Cli, studio: Studio) -> None:
    studio.save_settings()  # the fake's address and checkpoint, for the command's own studio
    item = make_item(studio)
    result = cli("plan", "run", str(item.id)[:8])
    assert result.code == 0, result.err
    assert ("waiting for a worker on queue 'pipeline' — none is serving it; running the job in this "
            "process") in result.err
    folder = Path(result.out.strip().splitlines()[-1])
    assert folder.is_dir() and (folder / "post.jpg").is_file()
    assert json.loads((folder / "post.json").read_text())["platform"] == "instagram"
    for step in ("image", "export", "publish"):
        assert any(line.startswith(step) and "done" in line for line in result.err.splitlines())


def test_plan_run_refuses_a_draft(cli: Cli, studio: Studio) -> None:
    item = make_item(studio, status="draft")
    result = cli("plan", "run", str(item.id))
    assert result.code == 2
    assert one_error_line(result.err) == ("error: Only an approved post can be produced; "
                                          "this one is draft.")
