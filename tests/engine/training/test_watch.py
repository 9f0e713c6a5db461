"""What the job shows while sd-scripts runs, from recorded real output read by read."""
from __future__ import annotations

import io
import json
from pathlib import Path

from studio.engine.training.command import TrainingFiles
from studio.engine.training.watch import Follower, count_sample_prompts

RECORDED = Path(__file__).with_name("sd_scripts_sampling_run.json")


def follow_recorded(tmp_path: Path, prompts: str | None) -> list[tuple[str, str]]:
    """The stages and messages reported while the real run's reads arrive one by one."""
    return _follow_recorded(tmp_path, prompts)[0]


def _follow_recorded(tmp_path: Path, prompts: str | None) -> tuple[list[tuple[str, str]], Follower]:
    files = TrainingFiles(tmp_path / "mia")
    files.output_dir.mkdir(parents=True)
    if prompts is not None:
        files.sample_prompts.write_text(prompts, encoding="utf-8")
    reports: list[tuple[str, str]] = []
    follower = Follower(files, "mia", total_steps=4, resume_step=0,
                        report=lambda fraction, stage, message: reports.append((stage, message)),
                        on_checkpoint=lambda path: True)
    log, metrics = io.StringIO(), io.StringIO()
    for _, text in json.loads(RECORDED.read_text(encoding="utf-8"))["chunks"]:
        follower.take(text.encode(), log, metrics)
    follower.take_end(log, metrics)
    return reports, follower


def test_sample_images_show_as_their_own_stage_and_training_comes_back(tmp_path: Path) -> None:
    reports = follow_recorded(tmp_path, "# portraits\nmia, portrait photo --d 42\n\nmia, full body --d 43\n")
    stages = [stage for stage, _ in reports]
    assert stages == ["Training", "Training",
                      "Generating sample images", "Generating sample images (1 of 2)",
                      "Generating sample images (2 of 2)", "Saving checkpoint", "Training", "Training",
                      "Training",  # the bar at 4/4, "0 s left", until the samples are announced
                      "Generating sample images", "Generating sample images (1 of 2)",
                      "Generating sample images (2 of 2)", "Saving checkpoint", "Training",
                      "Saving checkpoint", "Training"]
    sampling = [message for stage, message in reports if stage.startswith("Generating")]
    assert sampling == ["after step 2/4"] * 3 + ["after step 4/4"] * 3
    step_two = [message for stage, message in reports if stage == "Training" and "step 2/4" in message]
    assert len(step_two) == 2 and "loss 1.3200" in step_two[1]  # back after the save, with its own loss
    assert reports[8] == ("Training", "step 4/4 · epoch 2/2 · loss 1.3300 · 10.53 s/it · 0 s left")


def test_without_the_prompt_file_the_images_are_counted_alone(tmp_path: Path) -> None:
    stages = [stage for stage, _ in follow_recorded(tmp_path, None)]
    assert "Generating sample images (2)" in stages and not any(" of " in stage for stage in stages)


def test_sample_prompts_are_counted_as_sd_scripts_reads_them(tmp_path: Path) -> None:
    path = tmp_path / "prompts.txt"
    path.write_text("a --d 1\n# a comment\n\n   \nb --d 2\n", encoding="utf-8")
    assert count_sample_prompts(path) == 2
    assert count_sample_prompts(tmp_path / "none.txt") is None


def test_a_samples_step_comes_from_its_name_or_its_epochs_sampling(tmp_path: Path) -> None:
    """sd-scripts names step samples by step and epoch-end ones by epoch (e000000 before the
    first step): those take the step the log said that epoch's sampling began at."""
    _, follower = _follow_recorded(tmp_path, None)
    assert follower.sample_step("mia_000002_01_20260216120000_43.png") == 2
    assert follower.sample_step("mia_e000001_00_20260216120000.png") == 2
    assert follower.sample_step("mia_e000002_00_20260216120000.png") == 4
    assert follower.sample_step("mia_e000009_00_20260216120000.png") == 4  # not seen: the current step
