"""What sd-scripts is given: dataset_config.toml, sample prompts, the command line, the launcher."""
from __future__ import annotations

import sys
import tomllib
from pathlib import Path

from studio.engine.training.command import (
    DatasetSource,
    Launch,
    TrainingFiles,
    build_argv,
    dataset_config_text,
    plan_steps,
    resolve_launch,
    sample_prompts_text,
)
from studio.engine.training.config import get_preset

SOURCE = DatasetSource(image_dir=Path("/t/dataset/img/10_mia woman"), images=20, repeats=10,
                       class_tokens="mia woman", trigger="mia")


def _values(argv: list[str], option: str) -> str:
    return argv[argv.index(option) + 1]


def test_dataset_config_has_only_keys_sd_scripts_knows() -> None:
    config = get_preset("sd15-likeness-12gb").config.with_values({"flip_aug": True, "num_repeats": 4})
    parsed = tomllib.loads(dataset_config_text(config, SOURCE))
    assert parsed["general"] == {"caption_extension": ".txt", "shuffle_caption": True,
                                 "keep_tokens": 1, "flip_aug": True}
    [dataset] = parsed["datasets"]
    assert (dataset["resolution"], dataset["batch_size"], dataset["enable_bucket"]) == (512, 2, True)
    assert (dataset["min_bucket_reso"], dataset["max_bucket_reso"], dataset["bucket_reso_steps"]) == (256, 1024, 64)
    assert dataset["subsets"] == [{"image_dir": "/t/dataset/img/10_mia woman", "num_repeats": 4,
                                   "class_tokens": "mia woman"}]
    no_buckets = tomllib.loads(dataset_config_text(config.with_values({"enable_bucket": False}), SOURCE))
    assert "min_bucket_reso" not in no_buckets["datasets"][0]


def test_sample_prompts_carry_the_trigger_and_a_fixed_seed_each() -> None:
    config = get_preset("sd15-likeness-12gb").config
    lines = sample_prompts_text(config, "mia").splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("mia, portrait photo") and "--d 42 " in lines[0] and "--d 43 " in lines[1]
    assert "--w 512 --h 512" in lines[0] and "{trigger}" not in lines[1]


def test_the_command_line_uses_sd_scripts_option_names(tmp_path: Path) -> None:
    config = get_preset("sdxl-likeness-12gb").config.with_values({"base_model": "/m/sdxl.safetensors"})
    files = TrainingFiles(tmp_path / "mia-v1")
    launch = Launch(folder=tmp_path / "sd-scripts", python="/venv/bin/python", accelerate=None)
    argv = build_argv(config, launch, files, "mia-v1", resume=tmp_path / "mia-v1-000004-state")
    assert argv[:2] == ["/venv/bin/python", str(tmp_path / "sd-scripts" / "sdxl_train_network.py")]
    assert _values(argv, "--pretrained_model_name_or_path") == "/m/sdxl.safetensors"
    assert _values(argv, "--dataset_config") == str(files.dataset_config)
    assert _values(argv, "--network_module") == "networks.lora"
    assert (_values(argv, "--network_dim"), _values(argv, "--network_alpha")) == ("16", "8")
    assert _values(argv, "--max_train_epochs") == "10" and "--max_train_steps" not in argv
    assert {"--cache_text_encoder_outputs", "--network_train_unet_only", "--gradient_checkpointing",
            "--save_state", "--console_log_simple"} <= set(argv)
    assert "--text_encoder_lr" not in argv  # U-Net only
    assert _values(argv, "--resume") == str(tmp_path / "mia-v1-000004-state")
    assert "--skip_until_initial_step" in argv  # else sd-scripts trains the saved steps again


def test_accelerate_beside_the_venv_python_launches_it(tmp_path: Path) -> None:
    folder = tmp_path / "sd-scripts"
    bin_dir = folder / "venv" / "bin"
    bin_dir.mkdir(parents=True)
    for name in ("python", "accelerate"):
        (bin_dir / name).write_text("#!/bin/sh\n")
    launch = resolve_launch(folder)
    assert launch.python == str(bin_dir / "python") and launch.accelerate == str(bin_dir / "accelerate")
    assert launch.prefix("sd15") == [str(bin_dir / "accelerate"), "launch", "--num_cpu_threads_per_process",
                                     "1", str(folder / "train_network.py")]
    named = resolve_launch(folder, sys.executable)  # sdscripts.python wins over the venv
    assert named.python == sys.executable and named.prefix("sd15")[0] == sys.executable


def test_steps_follow_sd_scripts_arithmetic() -> None:
    config = get_preset("sd15-likeness-12gb").config  # 10 epochs, batch 2
    plan = plan_steps(config, images=20, repeats=10)
    assert (plan.steps_per_epoch, plan.epochs, plan.total_steps) == (100, 10, 1000)
    by_steps = plan_steps(config.with_values({"max_train_steps": 250}), images=20, repeats=10)
    assert (by_steps.epochs, by_steps.total_steps) == (3, 250)
