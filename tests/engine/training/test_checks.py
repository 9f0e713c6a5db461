"""Refusals before launch, each a plain sentence; warnings that let it run."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from studio.engine.errors import InvalidInput
from studio.engine.training.checks import check_training
from studio.engine.training.command import Launch
from studio.engine.training.config import TrainingConfig, get_preset
from studio.engine.training.jobs import submit_training
from tests.engine.training.helpers import FAKE_SD_SCRIPTS, Setup


@pytest.fixture
def model(tmp_path: Path) -> Path:
    path = tmp_path / "sd15.safetensors"
    path.write_bytes(b"x")
    return path


def problems(config: TrainingConfig, *, images: int = 20, gpu: float | None = 24.0,
             launch: Launch | None = None) -> list[str]:
    return check_training(config, images=images, launch=launch, gpu_gb=gpu).problems


def test_a_good_config_passes(model: Path) -> None:
    config = get_preset("sd15-likeness-12gb").config.with_values({"base_model": str(model)})
    launch = Launch(folder=FAKE_SD_SCRIPTS, python="/usr/bin/env", accelerate=None)
    assert problems(config, launch=launch) == []


@pytest.mark.parametrize(("values", "images", "gpu", "expected"), [
    ({}, 0, 24.0, "no images"),
    ({"base_model": ""}, 20, 24.0, "No base model is set"),
    ({"base_model": "/nowhere/model.safetensors"}, 20, 24.0, "does not exist"),
    ({"resolution": 500}, 20, 24.0, "not divisible by 64 (try 512)"),
    ({"min_bucket_reso": 300}, 20, 24.0, "must be divisible by bucket_reso_steps"),
    ({"resolution": 1280}, 20, 24.0, "must lie between min_bucket_reso"),
    ({"learning_rate": 2.0}, 20, 24.0, "learning_rate must be above 0 and below 1"),
    ({"mixed_precision": "fp8"}, 20, 24.0, "mixed_precision must be one of"),
    ({"optimizer_type": "AdamW9bit"}, 20, 24.0, "no optimizer 'AdamW9bit'"),
    ({}, 20, 8.0, "needs a GPU with 12 GB; the one here has 8 GB"),
    ({"cache_text_encoder_outputs": True}, 20, 24.0, "for SDXL, FLUX.1 and SD 3.5, not SD 1.5"),
])
def test_each_refusal_names_its_reason(model: Path, values: dict[str, object], images: int,
                                       gpu: float | None, expected: str) -> None:
    config = get_preset("sd15-likeness-12gb").config.with_values({"base_model": str(model), **values})
    found = problems(config, images=images, gpu=gpu)
    assert any(expected in p for p in found), found


def test_sdxl_text_encoder_caching_rules_match_sd_scripts(model: Path) -> None:
    config = get_preset("sdxl-likeness-12gb").config.with_values({"base_model": str(model)})
    assert problems(config) == []
    shuffled = problems(config.with_values({"shuffle_caption": True, "network_train_unet_only": False}))
    assert any("shuffle_caption" in p for p in shuffled)
    assert any("network_train_unet_only" in p for p in shuffled)


def test_a_12_gb_card_passes_a_12_gb_preset_and_no_gpu_only_warns(model: Path) -> None:
    config = get_preset("sd15-likeness-12gb").config.with_values({"base_model": str(model)})
    assert problems(config, gpu=11.7) == []
    found = check_training(config, images=20, launch=None, gpu_gb=None)
    assert found.problems == [] and any("No NVIDIA GPU" in w for w in found.warnings)


def test_launch_problems_name_the_folder(model: Path, tmp_path: Path) -> None:
    config = get_preset("sd15-fast-test").config.with_values({"base_model": str(model)})
    missing = problems(config, launch=Launch(folder=tmp_path / "none", python="python3", accelerate=None))
    assert any("sd-scripts folder" in p and "does not exist" in p for p in missing)
    (tmp_path / "empty").mkdir()
    empty = problems(config, launch=Launch(folder=tmp_path / "empty", python="/no/python", accelerate=None))
    assert any("train_network.py is missing" in p for p in empty)
    assert any("/no/python" in p for p in empty)


def test_submit_refuses_before_anything_is_queued_or_written(setup: Setup) -> None:
    with pytest.raises(InvalidInput, match="not divisible by 64"):
        submit_training(setup.studio, setup.workspace_id, setup.request(resolution=520))
    with pytest.raises(InvalidInput, match="does not exist"):
        submit_training(setup.studio, setup.workspace_id, setup.request(base_model="/nope.safetensors"))
    assert setup.studio.jobs.list(setup.workspace_id) == []
    assert not (setup.studio.paths.data_dir / "training").exists()


def test_a_diffusers_folder_passes_and_a_plain_folder_is_named(tmp_path: Path) -> None:
    folder = tmp_path / "sd15-diffusers"
    folder.mkdir()
    config = get_preset("sd15-fast-test").config.with_values({"base_model": str(folder)})
    assert problems(config) == [f"The base model folder {folder} is not a Diffusers model "
                                "(no model_index.json)."]
    (folder / "model_index.json").write_text("{}")
    assert problems(config) == []


@pytest.mark.parametrize(("values", "expected"), [
    ({"lr_scheduler": "adafactor", "optimizer_type": "AdamW8bit"},
     "lr_scheduler adafactor works only with optimizer_type Adafactor, not 'AdamW8bit'"),
    ({"lr_scheduler": "adafactor", "optimizer_type": "transformers.optimization.Adafactor"},
     "lr_scheduler adafactor works only with optimizer_type Adafactor"),
    ({"lr_scheduler": "constant", "lr_warmup_steps": 10}, "lr_scheduler constant takes no warmup"),
    ({"optimizer_type": "Adafactor", "lr_scheduler": "cosine", "lr_warmup_steps": 10},
     "optimizer_type Adafactor (with relative_step, its default) schedules the learning rate itself"),
])
def test_a_scheduler_sd_scripts_would_refuse_after_loading_the_model_is_refused_first(
        model: Path, values: dict[str, object], expected: str) -> None:
    """sd-scripts' get_scheduler_fix runs after the model is loaded (a minute or more); the real
    one said 'AssertionError: adafactor scheduler must be used with Adafactor optimizer'."""
    config = get_preset("sd15-likeness-12gb").config.with_values({"base_model": str(model), **values})
    found = problems(config)
    assert len(found) == 1 and found[0].startswith(expected), found


@pytest.mark.parametrize("values", [
    {"lr_scheduler": "adafactor", "optimizer_type": "Adafactor"},
    {"lr_scheduler": "adafactor", "optimizer_type": "adafactor"},
    {"lr_scheduler": "adafactor", "optimizer_type": "schedulefree.AdamWScheduleFree"},
    {"lr_scheduler": "constant_with_warmup", "lr_warmup_steps": 10},
    {"lr_scheduler": "cosine", "lr_warmup_steps": 10},
])
def test_schedulers_sd_scripts_accepts_pass(model: Path, values: dict[str, object]) -> None:
    config = get_preset("sd15-likeness-12gb").config.with_values({"base_model": str(model), **values})
    assert problems(config) == []


def test_submit_refuses_a_mismatched_scheduler_in_one_line_before_queueing(setup: Setup) -> None:
    with pytest.raises(InvalidInput) as refused:
        submit_training(setup.studio, setup.workspace_id, setup.request(lr_scheduler="adafactor"))
    assert "\n" not in str(refused.value) and "optimizer_type Adafactor" in str(refused.value)
    assert setup.studio.jobs.list(setup.workspace_id) == []


@pytest.mark.parametrize(("values", "extras", "expected"), [
    ({"lr_scheduler": "adafactor", "optimizer_type": "Adafactor"}, {"optimizer_args": ("relative_step=False",)},
     ["lr_scheduler adafactor needs Adafactor's relative_step"]),
    ({"optimizer_type": "Adafactor", "lr_warmup_steps": 10}, {"optimizer_args": ("relative_step=False",)}, []),
    ({"optimizer_type": "Adafactor", "lr_warmup_steps": 10},
     {"optimizer_args": ("relative_step=False", "warmup_init=True")}, ["optimizer_type Adafactor (with relative_step"]),
    ({"lr_scheduler": "constant", "lr_warmup_steps": 10}, {"lr_scheduler_type": ("CosineAnnealingLR",)},
     ["A custom lr_scheduler_type takes no warmup"]),
    ({"lr_scheduler": "adafactor"}, {"lr_scheduler_type": ("CosineAnnealingLR",)}, []),
])
def test_scheduler_rules_follow_the_extra_options_sd_scripts_reads(
        model: Path, values: dict[str, object], extras: dict[str, tuple[str, ...]], expected: list[str]) -> None:
    config = get_preset("sd15-likeness-12gb").config.with_values({"base_model": str(model), **values})
    found = problems(replace(config, extra_options=tuple(extras.items())))
    assert len(found) == len(expected), found
    assert all(p.startswith(e) for p, e in zip(found, expected, strict=True)), found
