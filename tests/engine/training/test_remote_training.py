"""A training queued on one machine and run by a worker on another (team mode: a training box).

Both share one database; the box has its own data folder and its own sd-scripts setting. The
dataset's pictures reach the box from the bucket in team mode; here they are copied, as that
fetch is tested in tests/engine/server.
"""
from __future__ import annotations

import shutil
import sys
from dataclasses import replace
from pathlib import Path

from studio.engine.config import Paths, Settings
from studio.engine.db.database import sqlite_url
from studio.engine.db.models import Job
from studio.engine.jobs.runner import JobRunner
from studio.engine.training.jobs import submit_training
from studio.engine.training.results import checkpoints_of
from tests.engine.training.helpers import FAKE_SD_SCRIPTS, Setup


def run_on_the_box(setup: Setup, box: Path, settings: Settings) -> None:
    studio = setup.studio
    paths = Paths(data_dir=box, config_dir=box)
    paths.ensure()
    shutil.copytree(studio.paths.assets_dir, paths.assets_dir, dirs_exist_ok=True)
    settings.database.url = sqlite_url(studio.paths.database_file)  # the shared database
    studio.queues.set_runner(JobRunner(studio.db, paths, settings, "training-box"))
    huey = studio.queues.hueys["training"]
    huey.execute(huey.dequeue())


def test_a_training_box_runs_a_training_queued_elsewhere(setup: Setup, tmp_path: Path) -> None:
    job = submit_training(setup.studio, setup.workspace_id, setup.request())
    with setup.studio.db.session() as session:  # the desk's sd-scripts: not on the box
        row = session.get(Job, job.id)
        row.payload = {**row.payload, "sd_scripts": "/desk/only/sd-scripts", "python": "/desk/python"}
    box = tmp_path / "training-box"
    settings = Settings()
    settings.sdscripts.folder = str(FAKE_SD_SCRIPTS)
    settings.sdscripts.python = sys.executable  # the fake needs this Python's numpy and safetensors
    run_on_the_box(setup, box, settings)

    done = setup.job(job.id)
    assert done.status == "completed", done.error
    root = box / "training" / Path(job.payload["root"]).parent.name / Path(job.payload["root"]).name
    assert (root / "dataset_config.toml").is_file() and (root / "sample_prompts.txt").is_file()
    assert "mia" in (root / "sample_prompts.txt").read_text()
    assert not Path(job.payload["root"], "output").exists()  # nothing written in the desk's folder
    loras = checkpoints_of(setup.studio.db, setup.workspace_id, job_id=job.id)
    assert loras and (box / "assets" / loras[-1].storage_key).is_file()


def test_a_box_without_sd_scripts_or_the_base_model_says_so(setup: Setup, tmp_path: Path) -> None:
    first = submit_training(setup.studio, setup.workspace_id, setup.request())
    run_on_the_box(setup, tmp_path / "box-a", Settings())
    assert setup.job(first.id).error.startswith("This training was queued on another machine: set "
                                                "sdscripts.folder on this worker (")

    second = submit_training(setup.studio, setup.workspace_id, replace(setup.request(), name="second"))
    setup.base_model.unlink()
    settings = Settings()
    settings.sdscripts.folder = str(FAKE_SD_SCRIPTS)
    run_on_the_box(setup, tmp_path / "box-b", settings)
    assert setup.job(second.id).error.startswith(f"The base model {setup.base_model} does not exist on this machine (")
