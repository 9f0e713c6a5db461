"""`train checkpoints` with identity: a training whose samples (real photos written by the fake
sd-scripts) show someone else, then her, then a mix; the table and --json carry each
checkpoint's median identity and the suggested one."""
from __future__ import annotations

from pathlib import Path

import pytest

from studio.engine.training.jobs import submit_training
from tests.cli.conftest import Cli
from tests.engine.training.helpers import Setup, no_gpu_here, setup  # noqa: F401 - fixtures
from tests.engine.training.identity_helpers import PROMPTS, her_at


def test_checkpoints_show_identity_and_the_suggestion(cli: Cli, setup: Setup, tmp_path: Path,  # noqa: F811
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    her_at(setup, tmp_path, monkeypatch, (4, 8, 12))
    job = submit_training(setup.studio, setup.workspace_id,
                          setup.request(sample_every_n_steps=4, sample_prompts=PROMPTS))
    setup.run_next()
    rows = cli("train", "checkpoints", "--job", str(job.id), "--json").json()
    assert [(r["kind"], r["step"], r["identity_samples"], r["suggested"]) for r in rows] == [
        ("step", 4, 3, False), ("step", 8, 3, True), ("step", 12, 3, False), ("final", 12, 3, False)]
    assert rows[1]["identity"] > 0.5 > rows[0]["identity"] and rows[2]["identity"] == rows[3]["identity"]
    table = cli("train", "checkpoints", "--job", str(job.id))
    assert table.code == 0 and table.out.splitlines()[0].split()[:7] == [
        "ID", "FAMILY", "KIND", "STEP", "EPOCH", "ACTIVE", "IDENTITY"]
    suggested = [line for line in table.out.splitlines() if "suggested" in line]
    assert len(suggested) == 1 and "mia-main-v1 step 8" in suggested[0]
    assert f"{rows[1]['identity']:.2f} (3) suggested" in suggested[0]
