"""A running worker takes settings changed elsewhere (the app, the CLI) from its next job on."""
from __future__ import annotations

from studio.engine.core import Studio
from studio.engine.jobs.runner import JobRunner


def test_the_runner_reads_settings_saved_by_another_process(studio: Studio) -> None:
    runner = JobRunner(studio.db, studio.paths, studio.settings, "test:1:worker")
    elsewhere = Studio.open(studio.paths.data_dir)  # as the app or the CLI would
    elsewhere.settings.llm.base_url = "http://127.0.0.1:9/v1"
    elsewhere.save_settings()
    runner("00000000-0000-0000-0000-000000000000")  # no such job: only the settings are read
    assert runner.settings.llm.base_url == "http://127.0.0.1:9/v1"
    elsewhere.close()
