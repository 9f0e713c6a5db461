"""musubi-tuner trainings end to end against the fake musubi-tuner: the real runner, real
processes, three stages in one train-lora job."""
from __future__ import annotations

import json
import threading
import tomllib
from dataclasses import replace
from pathlib import Path

import pytest

from studio.engine.db.models import Job
from studio.engine.errors import InvalidInput
from studio.engine.jobs.status import JobStatus
from studio.engine.training.command import TrainingFiles
from studio.engine.training.jobs import resume_training, submit_training
from studio.engine.training.musubi_dataset import preset_table
from studio.engine.training.musubi_plan import MusubiPlan
from studio.engine.training.plan import TrainingRequest, plan_training
from studio.engine.training.results import checkpoints_of, read_lora_file
from tests.conftest import wait_until
from tests.engine.training.helpers import Setup
from tests.engine.training.musubi_helpers import MUSUBI_PRESETS, musubi_request, stand_in, use_fake_musubi


@pytest.fixture(autouse=True)
def fake_musubi(setup: Setup, monkeypatch: pytest.MonkeyPatch) -> None:
    use_fake_musubi(setup.studio)
    monkeypatch.setattr("studio.engine.training.musubi_plan.detect_vram_gb", lambda: 24.0)


def files_of(job: Job) -> TrainingFiles:
    return TrainingFiles(Path(job.payload["root"]))


def stages_seen(setup: Setup, job: Job) -> list[str]:
    """The scripts the job ran, in order, from the header line train.log keeps of each command."""
    log = files_of(job).log_file.read_text(encoding="utf-8")
    return [next(Path(word).name for word in line.split() if word.endswith(".py"))
            for line in log.splitlines() if line.startswith("--- ") and ".py" in line]


@pytest.mark.parametrize("preset", MUSUBI_PRESETS)
def test_each_preset_plans_three_stages(setup: Setup, tmp_path: Path, preset: str) -> None:
    plan = plan_training(setup.studio, setup.workspace_id, musubi_request(setup, tmp_path, preset))
    assert isinstance(plan, MusubiPlan) and plan.findings.problems == []
    assert [s.key for s in plan.stages] == ["latents", "text", "train"]
    assert plan.argv == list(plan.stages[-1].argv) and plan.stages[0].argv[0] == setup.studio.settings.musubi.python
    assert "[[datasets]]" in plan.dataset_config and plan.launch.folder.name == "fake_musubi"
    if preset.startswith("wan22"):
        assert any("No clips in the dataset" in w for w in plan.findings.warnings)


def test_missing_models_and_folder_are_refused_plainly(setup: Setup, tmp_path: Path) -> None:
    request = musubi_request(setup, tmp_path, "wan22-fast-test")
    request.overrides.pop("dit_high_noise")
    request.overrides["t5"] = str(tmp_path / "nowhere.pth")
    plan = plan_training(setup.studio, setup.workspace_id, request)
    assert any(p.startswith("The Wan 2.2 I2V A14B high-noise expert (fp16) is not set: give its file with "
                            "--set dit_high_noise=PATH, or put wan2.2_i2v_high_noise_14B_fp16.safetensors in "
                            "ComfyUI's models/diffusion_models folder") for p in plan.findings.problems)
    assert any("nowhere.pth does not exist" in p for p in plan.findings.problems)
    with pytest.raises(InvalidInput, match="is not set"):
        submit_training(setup.studio, setup.workspace_id, request)
    setup.studio.settings.musubi.folder = ""
    with pytest.raises(InvalidInput, match="Where is musubi-tuner"):
        plan_training(setup.studio, setup.workspace_id, musubi_request(setup, tmp_path / "b"))


def test_a_qwen_training_runs_its_stages_and_saves_checkpoints(setup: Setup, tmp_path: Path) -> None:
    job = submit_training(setup.studio, setup.workspace_id, musubi_request(setup, tmp_path))
    setup.run_next()
    done = setup.job(job.id)
    assert done.status == JobStatus.COMPLETED, done.error
    assert stages_seen(setup, done) == ["qwen_image_cache_latents.py", "qwen_image_cache_text_encoder_outputs.py",
                                        "qwen_image_train_network.py"]
    assert done.result["checkpoints"] == ["mia-main-v1-step00000003.safetensors", "mia-main-v1.safetensors"]
    files = files_of(done)
    caches = sorted(p.name for p in (files.root / "cache" / "images").iterdir())
    assert len(caches) == 6 and sum(name.endswith("_qi_te.safetensors") for name in caches) == 3
    points = [json.loads(line) for line in files.metrics_file.read_text().splitlines()]
    assert [p["step"] for p in points] == list(range(1, 7)) and all(isinstance(p["loss"], float) for p in points)
    rows = checkpoints_of(setup.studio.db, setup.workspace_id, job_id=job.id)
    assert [(r.meta["kind"], r.meta["step"]) for r in rows] == [("step", 3), ("final", 6)]
    metadata = read_lora_file(setup.studio.asset_path(rows[-1].storage_key)).metadata
    assert metadata["modelspec.architecture"] == "Qwen-Image/lora"
    assert rows[-1].base_model == "qwen_image_bf16.safetensors" and rows[-1].meta["family"] == "qwen_image"
    assert (done.stage, done.progress) == ("Training", 1.0)
    manifest = json.loads((files.dataset_dir / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["caption_style"] == "sentences"  # Qwen-Image reads natural sentences


def test_a_wan_training_caches_i2v_latents_and_trains_both_experts(setup: Setup, tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    argv_dir = tmp_path / "argv"
    argv_dir.mkdir()
    monkeypatch.setenv("FAKE_MUSUBI_ARGV_DIR", str(argv_dir))
    job = submit_training(setup.studio, setup.workspace_id, musubi_request(setup, tmp_path, "wan22-fast-test"))
    setup.run_next()
    done = setup.job(job.id)
    assert done.status == JobStatus.COMPLETED, done.error
    latents = json.loads((argv_dir / "wan_cache_latents.py.json").read_text())
    train = json.loads((argv_dir / "wan_train_network.py.json").read_text())
    assert "--i2v" in latents and train[train.index("--task") + 1] == "i2v-A14B"
    assert "--dit_high_noise" in train and "--offload_inactive_dit" in train
    assert done.result["checkpoints"][-1] == "mia-main-v1.safetensors"
    rows = checkpoints_of(setup.studio.db, setup.workspace_id, job_id=job.id)
    assert {r.meta["family"] for r in rows} == {"wan22_14b"}  # musubi writes wan2.1/lora for Wan 2.2 too


def test_a_failing_cache_stage_fails_the_job_with_its_reason(setup: Setup, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKE_MUSUBI_FAIL_IN", "text")
    job = submit_training(setup.studio, setup.workspace_id, musubi_request(setup, tmp_path))
    setup.run_next()
    done = setup.job(job.id)
    assert done.status == JobStatus.FAILED
    assert done.error.startswith("Caching text-encoder outputs failed. CUDA ran out of GPU memory")


def test_cancel_during_caching_then_resume_skips_the_finished_cache(setup: Setup, tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKE_MUSUBI_HANG_IN", "text")
    job = submit_training(setup.studio, setup.workspace_id, musubi_request(setup, tmp_path))
    runner = threading.Thread(target=setup.run_next)
    runner.start()
    wait_until(lambda: setup.job(job.id).stage == "Caching text-encoder outputs", timeout=30)
    setup.studio.jobs.cancel(setup.workspace_id, job.id)
    runner.join(timeout=30)
    assert setup.job(job.id).status == JobStatus.CANCELED
    files = files_of(setup.job(job.id))
    assert (files.root / "cache" / "latents.done").is_file() and not (files.root / "cache" / "text.done").exists()
    monkeypatch.delenv("FAKE_MUSUBI_HANG_IN")
    resume_training(setup.studio, setup.workspace_id, job.id)
    setup.run_next()
    done = setup.job(job.id)
    assert done.status == JobStatus.COMPLETED, done.error
    assert stages_seen(setup, done).count("qwen_image_cache_latents.py") == 1  # kept from the first run
    assert stages_seen(setup, done).count("qwen_image_cache_text_encoder_outputs.py") == 2


def test_models_in_comfyuis_folders_are_found_without_set(setup: Setup, tmp_path: Path) -> None:
    comfy = tmp_path / "ComfyUI"
    for model in preset_table("qwen-image-fast-test", "models").values():
        stand_in(comfy / "models" / model["folder"] / model["file"], int(model["size_bytes"]) // 2)  # fp8-sized
    setup.studio.settings.comfyui.folder = str(comfy)
    request = TrainingRequest(influencer_id=setup.influencer.id, dataset_id=setup.dataset.id,
                              preset="qwen-image-fast-test", overrides={})
    plan = plan_training(setup.studio, setup.workspace_id, request)
    assert plan.findings.problems == []
    assert plan.argv[plan.argv.index("--dit") + 1] == str(comfy / "models" / "diffusion_models" /
                                                            "qwen_image_bf16.safetensors")
    assert any(w.startswith("qwen_image_bf16.safetensors is 20.4 GB; the Qwen-Image DiT (bf16) is about 40.9 GB")
               for w in plan.findings.warnings)


def test_a_wan_training_with_clips_writes_and_caches_a_video_dataset(setup: Setup, tmp_path: Path,
                                                                     ffmpeg: str) -> None:
    from studio.engine.datasets.importer import import_paths
    from tests.engine.datasets.clips import make_clip
    import_paths(setup.studio, setup.dataset, [make_clip(ffmpeg, tmp_path / "clips" / "walk.mp4", seconds=2)])
    request = musubi_request(setup, tmp_path, "wan22-fast-test")
    plan = plan_training(setup.studio, setup.workspace_id, request)
    datasets = tomllib.loads(plan.dataset_config)["datasets"]
    assert [d.get("target_frames") for d in datasets] == [None, [1, 9]]  # pictures, then the clip
    assert not any("No clips" in w for w in plan.findings.warnings)
    job = submit_training(setup.studio, setup.workspace_id, request)
    setup.run_next()
    done = setup.job(job.id)
    assert done.status == JobStatus.COMPLETED, done.error
    files = files_of(done)
    written = files.dataset_config.read_text(encoding="utf-8")
    assert "video_directory" in written and 'frame_extraction = "head"' in written
    videos = sorted(p.name for p in (files.root / "cache" / "videos").iterdir())
    assert len(videos) == 2 and videos[0].endswith("_wan.safetensors")  # the clip's latents and text outputs


def test_wan_ti2v_5b_is_refused_plainly(setup: Setup, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """musubi-tuner at 30c658c has no ti2v-5B task; a preset of that family says so before anything runs."""
    from studio.engine.training import config as config_module
    preset = config_module.get_preset("wan22-fast-test")
    five_b = replace(preset, config=replace(preset.config, family="wan22_5b"))
    monkeypatch.setattr("studio.engine.training.musubi_plan.get_preset", lambda slug: five_b)
    monkeypatch.setattr("studio.engine.training.plan.get_preset", lambda slug: five_b)
    with pytest.raises(InvalidInput, match="cannot train wan22_5b: its Wan trainer takes the 14B models only"):
        plan_training(setup.studio, setup.workspace_id, musubi_request(setup, tmp_path, "wan22-fast-test"))
