"""train-lora jobs end to end against the fake sd-scripts: the real runner, real processes."""
from __future__ import annotations

import json
import os
import re
import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest

from studio.engine.db.models import Job
from studio.engine.errors import InvalidInput
from studio.engine.jobs.status import JobStatus
from studio.engine.training import jobs as jobs_module
from studio.engine.training.command import TrainingFiles
from studio.engine.training.jobs import queued_trainings, reorder_trainings, resume_training, submit_training
from studio.engine.training.results import checkpoints_of, read_lora_file
from tests.conftest import wait_until
from tests.engine.training.helpers import Setup
from tests.fakes.fake_sd_scripts.fake_accelerate import write_launcher


def files_of(job: Job) -> TrainingFiles:
    return TrainingFiles(Path(job.payload["root"]))


def _last_redraw_losses(log: str) -> list[str]:
    """The postfix of each step's last bar in train.log; checks the fake redraws as sd-scripts:
    each step twice, first with the previous step's loss (the last step once more as tqdm closes)."""
    redraws: dict[int, list[str]] = {}
    for line in log.splitlines():
        found = re.match(r"steps:.*\| (\d+)/\d+ \[.*?(avr_loss=[\d.e-]+)?\]$", line)
        if found and int(found.group(1)):
            redraws.setdefault(int(found.group(1)), []).append(found.group(2) or "")
    steps = sorted(redraws)
    closed = redraws[steps[-1]].pop()
    assert closed == redraws[steps[-1]][-1]
    assert all(len(redraws[n]) == 2 for n in steps) and redraws[steps[0]][0] == ""
    assert all(redraws[n][0] == redraws[n - 1][1] for n in steps[1:])
    return [redraws[n][1] for n in steps]


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except FileNotFoundError:
        return False


def test_a_training_saves_checkpoints_samples_metrics_and_log(setup: Setup) -> None:
    job = submit_training(setup.studio, setup.workspace_id, setup.request())
    assert (job.queue, job.type, job.status) == ("training", "train-lora", "pending")
    files = files_of(job)
    assert json.loads(files.command_file.read_text())["argv"][1].endswith("train_network.py")
    setup.run_next()
    done = setup.job(job.id)
    assert done.status == "completed", done.error
    # sd-scripts saves the last step as a step checkpoint too when save_every_n_steps divides the run.
    assert done.result["checkpoints"] == [f"mia-main-v1-step{n:08d}.safetensors" for n in (4, 8, 12)] + [
        "mia-main-v1.safetensors"]
    assert len(done.result["samples"]) == 2 and done.result["steps"] == 12
    rows = checkpoints_of(setup.studio.db, setup.workspace_id, job_id=job.id)
    assert [(r.meta["kind"], r.meta["step"], r.meta["final"]) for r in rows] == [
        ("step", 4, False), ("step", 8, False), ("step", 12, False), ("final", 12, True)]
    for row in rows:
        stored = setup.studio.asset_path(row.storage_key)
        info = read_lora_file(stored)
        assert info.complete and info.tensors == 9  # down, up and alpha of three modules
        assert row.meta["ss_metadata"]["ss_output_name"].startswith("mia-main-v1")
        assert row.meta["dataset_version"] == done.result["dataset_version"] != ""
        assert (row.base_model, row.influencer_id, row.training_job_id) == ("sd15.safetensors",
                                                                          setup.influencer.id, job.id)
    points = [json.loads(line) for line in files.metrics_file.read_text().splitlines()]
    # Every step once, each with its own loss (the last redraw of its step), the final one included.
    assert [p["step"] for p in points] == list(range(1, 13))
    assert all(isinstance(p["loss"], float) for p in points)
    assert [f"avr_loss={p['loss']:2.3g}" for p in points] == _last_redraw_losses(files.log_file.read_text())
    log = files.log_file.read_text()
    assert "running training" in log and "model saved." in log and "\r" not in log
    assert (files.samples_dir / done.result["samples"][0]).is_file()
    config = (files.dataset_config).read_text()
    assert 'image_dir = "' + str(files.dataset_dir / "img" / "2_mia woman") + '"' in config


def test_cuda_out_of_memory_is_explained_with_the_last_lines(setup: Setup,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKE_SD_SCRIPTS_FAIL", "oom")
    monkeypatch.setenv("FAKE_SD_SCRIPTS_FAIL_AT", "3")
    job = submit_training(setup.studio, setup.workspace_id, setup.request())
    setup.run_next()
    done = setup.job(job.id)
    assert done.status == "failed"
    headline, _, rest = done.error.partition("\n")
    assert headline.startswith("CUDA ran out of GPU memory")
    assert "torch.OutOfMemoryError: CUDA out of memory" in rest and "Traceback" in rest


def test_a_missing_module_is_named(setup: Setup, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKE_SD_SCRIPTS_FAIL", "missing_module")
    job = submit_training(setup.studio, setup.workspace_id, setup.request())
    setup.run_next()
    assert setup.job(job.id).error.startswith("sd-scripts is missing the Python module 'diffusers'")


def test_a_run_that_saves_nothing_fails_plainly(setup: Setup, monkeypatch: pytest.MonkeyPatch) -> None:
    """sd-scripts says "No data found" and exits 0 when its image folder is empty."""
    job = submit_training(setup.studio, setup.workspace_id, setup.request())
    empty = files_of(job).root / "empty"
    empty.mkdir(parents=True)
    monkeypatch.setattr("studio.engine.training.jobs.dataset_config_text",
                        lambda config, source: f'[[datasets]]\n[[datasets.subsets]]\nimage_dir = "{empty}"\n')
    setup.run_next()
    done = setup.job(job.id)
    assert done.status == "failed" and done.error.startswith("sd-scripts found no training images")
    assert "No data found" in done.error


def test_a_bad_python_is_a_plain_failure(setup: Setup) -> None:
    job = submit_training(setup.studio, setup.workspace_id, setup.request())
    with setup.studio.db.session() as session:
        row = session.get(Job, job.id)
        row.payload = {**row.payload, "python": "/no/such/python"}
    setup.run_next()
    done = setup.job(job.id)
    assert done.status == "failed" and "sd-scripts could not be started (/no/such/python" in done.error


def test_cancel_of_a_hanging_trainer_leaves_no_process(setup: Setup, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKE_SD_SCRIPTS_HANG_AT", "6")
    monkeypatch.setenv("FAKE_SD_SCRIPTS_IGNORE_TERM", "1")  # only SIGKILL after the grace period ends it
    monkeypatch.setattr("studio.engine.training.watch.STOP_GRACE_S", 1.0)
    job = submit_training(setup.studio, setup.workspace_id, setup.request(max_train_steps=30))
    files = files_of(job)
    runner = threading.Thread(target=setup.run_next)
    runner.start()
    child_file = files.output_dir / "fake-child.pid"
    wait_until(child_file.exists, timeout=30, what="the fake trainer to hang")
    trainer, child = (int((files.output_dir / n).read_text()) for n in ("fake-trainer.pid", "fake-child.pid"))
    assert alive(trainer) and alive(child)
    started = time.monotonic()
    setup.studio.jobs.cancel(setup.workspace_id, job.id)
    runner.join(timeout=30)
    assert not runner.is_alive()
    done = setup.job(job.id)
    assert done.status == "canceled"
    assert not alive(trainer) and not alive(child)
    assert time.monotonic() - started < 10
    # What was saved before the hang stays; the resume starts from its state.
    assert [r.meta["step"] for r in checkpoints_of(setup.studio.db, setup.workspace_id, job_id=job.id)] == [4]


def fail_then_resume(setup: Setup, monkeypatch: pytest.MonkeyPatch) -> tuple[Job, dict[str, int]]:
    """A training that fails at step 10 and is resumed from its step-8 state; the step
    checkpoints' modification times from before the resume."""
    monkeypatch.setenv("FAKE_SD_SCRIPTS_FAIL", "oom")
    monkeypatch.setenv("FAKE_SD_SCRIPTS_FAIL_AT", "10")
    job = submit_training(setup.studio, setup.workspace_id, setup.request())
    setup.run_next()
    assert setup.job(job.id).status == "failed"
    monkeypatch.delenv("FAKE_SD_SCRIPTS_FAIL")
    saved = {p.name: p.stat().st_mtime_ns for p in files_of(job).output_dir.glob("*-step*.safetensors")}
    assert sorted(saved) == ["mia-main-v1-step00000004.safetensors", "mia-main-v1-step00000008.safetensors"]
    return job, saved


def test_resume_goes_on_from_the_last_state(setup: Setup, monkeypatch: pytest.MonkeyPatch) -> None:
    job, saved = fail_then_resume(setup, monkeypatch)
    argv_file = files_of(job).root / "argv.json"
    monkeypatch.setenv("FAKE_SD_SCRIPTS_ARGV_FILE", str(argv_file))
    again = resume_training(setup.studio, setup.workspace_id, job.id)
    assert again.status == "pending" and again.message == "Will resume from step 8."
    setup.run_next()
    done = setup.job(job.id)
    assert done.status == "completed", done.error
    assert done.result["resumed_from"] == 8
    argv = json.loads(argv_file.read_text())
    assert argv[argv.index("--resume") + 1].endswith("mia-main-v1-step00000008-state")
    assert "--skip_until_initial_step" in argv
    steps = [(r.meta["kind"], r.meta["step"])
             for r in checkpoints_of(setup.studio.db, setup.workspace_id, job_id=job.id)]
    assert steps == [("step", 4), ("step", 8), ("step", 12), ("final", 12)]
    output = files_of(job).output_dir
    assert {name: (output / name).stat().st_mtime_ns for name in saved} == saved  # not trained again
    assert read_lora_file(output / "mia-main-v1.safetensors").metadata["ss_steps"] == "12"
    points = [json.loads(line)["step"] for line in files_of(job).metrics_file.read_text().splitlines()]
    # The resumed bar is mapped to global steps: no step twice, none after the last.
    assert points[-1] == 12 and points == sorted(set(points))


def test_without_skip_until_initial_step_sd_scripts_trains_from_step_0(
        setup: Setup, monkeypatch: pytest.MonkeyPatch) -> None:
    """The stand-in does as real sd-scripts: the state is loaded but the count starts again, so the
    saved step checkpoints are written again and the final LoRA says fewer steps."""
    job, saved = fail_then_resume(setup, monkeypatch)
    real_build = jobs_module.build_argv

    def without_skip(*args: object, **kwargs: object) -> list[str]:
        return [a for a in real_build(*args, **kwargs) if a != "--skip_until_initial_step"]  # type: ignore[arg-type]

    monkeypatch.setattr(jobs_module, "build_argv", without_skip)
    resume_training(setup.studio, setup.workspace_id, job.id)
    setup.run_next()
    assert setup.job(job.id).status == "completed"
    output = files_of(job).output_dir
    assert (output / "mia-main-v1-step00000004.safetensors").stat().st_mtime_ns != saved[
        "mia-main-v1-step00000004.safetensors"]
    assert read_lora_file(output / "mia-main-v1.safetensors").metadata["ss_steps"] != "12"


def test_waiting_trainings_can_be_reordered(setup: Setup) -> None:
    first = submit_training(setup.studio, setup.workspace_id, setup.request())
    second = submit_training(setup.studio, setup.workspace_id, setup.request())
    assert [j.id for j in queued_trainings(setup.studio, setup.workspace_id)] == [first.id, second.id]
    reorder_trainings(setup.studio, setup.workspace_id, [second.id, first.id])
    assert [j.id for j in queued_trainings(setup.studio, setup.workspace_id)] == [second.id, first.id]
    setup.run_next()  # the old entry of the second claims nothing: its row names the new one
    while setup.job(second.id).status == "pending" and setup.job(first.id).status == "pending":
        setup.run_next()
    assert setup.job(second.id).status == "completed" and setup.job(first.id).status == "pending"
    assert second.payload["output_name"] == "mia-main-v2" and os.path.isdir(second.payload["root"])


def test_a_diffusers_folder_trains_and_one_without_model_index_is_refused(
        setup: Setup, tmp_path: Path) -> None:
    # The pre-check and the job ask the same question, so a dry run that passes also trains.
    folder = tmp_path / "models" / "sd15-diffusers"
    folder.mkdir()
    (folder / "model_index.json").write_text('{"_class_name": "StableDiffusionPipeline"}')
    job = submit_training(setup.studio, setup.workspace_id, setup.request(base_model=str(folder)))
    setup.run_next()
    done = setup.job(job.id)
    assert done.status == JobStatus.COMPLETED, done.error
    assert done.result["checkpoints"][-1] == "mia-main-v1.safetensors"

    (folder / "model_index.json").unlink()
    refusal = f"The base model folder {folder} is not a Diffusers model (no model_index.json)."
    with pytest.raises(InvalidInput) as refused:
        submit_training(setup.studio, setup.workspace_id, setup.request(base_model=str(folder)))
    assert str(refused.value) == refusal

    (folder / "model_index.json").write_text("{}")
    second = submit_training(setup.studio, setup.workspace_id,
                             replace(setup.request(base_model=str(folder)), name="second"))
    (folder / "model_index.json").unlink()  # gone between the dry run and the job
    setup.run_next()
    failed = setup.job(second.id)
    assert (failed.status, failed.error) == (JobStatus.FAILED, refusal)


def launched_by(setup: Setup, job: Job, accelerate: Path) -> None:
    with setup.studio.db.session() as session:
        row = session.get(Job, job.id)
        row.payload = {**row.payload, "accelerate": str(accelerate)}


def test_sample_images_are_a_stage_of_their_own_while_they_are_made(
        setup: Setup, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    release = tmp_path / "release-samples"
    monkeypatch.setenv("FAKE_SD_SCRIPTS_SAMPLE_HOLD", str(release))
    prompts = ["{trigger}, portrait photo", "{trigger}, full body, beach"]
    job = submit_training(setup.studio, setup.workspace_id, setup.request(sample_prompts=prompts))
    runner = threading.Thread(target=setup.run_next)
    runner.start()
    try:
        held = wait_until(lambda: (row := setup.job(job.id)).stage.startswith("Generating sample images (")
                          and row, what="the sample stage")
    finally:
        release.touch()
        runner.join(timeout=60)
    assert isinstance(held, Job)
    assert (held.stage, held.message) == ("Generating sample images (1 of 2)", "after step 6/12")
    done = setup.job(job.id)
    assert done.status == "completed", done.error
    assert done.stage == "Training"  # not left on the samples
    log = files_of(job).log_file.read_text(encoding="utf-8")
    assert "generating sample images at step / サンプル画像生成 ステップ: 6" in log
    assert "prompt: mia, full body, beach" in log and "sample_steps: 28" in log
    assert len(done.result["samples"]) == 4


def test_under_accelerate_a_broken_checkpoint_fails_with_the_trainers_error(
        setup: Setup, tmp_path: Path) -> None:
    broken = tmp_path / "models" / "broken.safetensors"
    broken.write_bytes(b"\xff" * 8 + b"not a checkpoint" * 60)
    job = submit_training(setup.studio, setup.workspace_id, setup.request(base_model=str(broken)))
    launched_by(setup, job, write_launcher(tmp_path))
    setup.run_next()
    done = setup.job(job.id)
    assert done.status == "failed"
    head, _, rest = done.error.partition("\n")
    assert head == "sd-scripts failed: SafetensorError: Error while deserializing header: HeaderTooLarge"
    assert "safetensors_rust.SafetensorError" in rest and "CalledProcessError" not in rest
    log = files_of(job).log_file.read_text(encoding="utf-8")
    assert "returned non-zero exit status 1." in log and "were not passed to `accelerate launch`" in log


def test_under_accelerate_a_training_runs_as_without_it(setup: Setup, tmp_path: Path) -> None:
    job = submit_training(setup.studio, setup.workspace_id, setup.request())
    launched_by(setup, job, write_launcher(tmp_path))
    setup.run_next()
    done = setup.job(job.id)
    assert done.status == "completed", done.error
    saved = checkpoints_of(setup.studio.db, setup.workspace_id, job_id=job.id)
    assert [r.meta["step"] for r in saved] == [4, 8, 12, 12]
