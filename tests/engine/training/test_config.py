"""Training config: presets from resources, overrides by sd-scripts' own option names."""
from __future__ import annotations

from pathlib import Path

import pytest

from studio.engine.errors import InvalidInput
from studio.engine.training.config import TrainingConfig, get_preset, load_presets, model_path

NAMED = {"sd15-likeness-12gb", "sd15-likeness-24gb", "sd15-fast-test", "sdxl-likeness-12gb",
         "sdxl-likeness-24gb", "sdxl-fast-test", "flux1-dev-likeness-24gb", "flux1-dev-likeness-16gb-fp8",
         "flux1-dev-fast-test", "sd35-medium-likeness-16gb", "sd35-medium-fast-test"}


def test_every_preset_named_by_the_issue_loads_with_its_family_and_vram() -> None:
    presets = load_presets()
    assert set(presets) >= NAMED  # musubi-tuner's families add their own
    for slug in NAMED:
        preset = presets[slug]
        family, purpose = slug.split("-", 1)
        assert preset.config.family == family and preset.title
        vram = [part for part in purpose.split("-") if part.endswith("gb")]
        if vram:
            assert preset.config.vram_gb == int(vram[0].removesuffix("gb"))
        assert preset.config.sample_prompts and all("{trigger}" in p for p in preset.config.sample_prompts)
    assert presets["sdxl-likeness-12gb"].config.cache_text_encoder_outputs
    assert presets["sdxl-likeness-12gb"].config.network_train_unet_only


def test_overrides_are_converted_to_each_fields_type() -> None:
    config = get_preset("sd15-likeness-12gb").config.with_values({
        "learning_rate": "5e-5", "network_dim": "64", "gradient_checkpointing": "yes",
        "unet_lr": "none", "sample_prompts": "{trigger} smiling | {trigger} at night"})
    assert config.learning_rate == 5e-5 and config.network_dim == 64
    assert config.gradient_checkpointing is True and config.unet_lr is None
    assert config.sample_prompts == ("{trigger} smiling", "{trigger} at night")


def test_steps_and_epochs_exclude_each_other_when_set_alone() -> None:
    epochs = get_preset("sd15-likeness-12gb").config
    assert epochs.max_train_epochs == 10 and epochs.max_train_steps is None
    steps = epochs.with_values({"max_train_steps": "1200"})
    assert (steps.max_train_steps, steps.max_train_epochs) == (1200, None)
    back = steps.with_values({"max_train_epochs": 4})
    assert (back.max_train_steps, back.max_train_epochs) == (None, 4)


@pytest.mark.parametrize(("key", "value", "message"), [
    ("learning_rat", "1e-4", "Did you mean learning_rate"),
    ("network_dim", "big", "network_dim takes a whole number"),
    ("cache_latents", "maybe", "cache_latents takes a true or false"),
    ("network_dim", "1.5", "whole number"),
])
def test_bad_overrides_are_one_plain_sentence(key: str, value: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        TrainingConfig().with_values({key: value})


def test_a_stored_config_comes_back_equal() -> None:
    config = get_preset("sdxl-likeness-24gb").config.with_values({"base_model": "/m/sdxl.safetensors"})
    assert TrainingConfig.from_dict(config.to_dict()) == config
    assert TrainingConfig.from_dict({**config.to_dict(), "from_a_newer_version": 1}) == config


def test_an_unknown_preset_lists_the_known_ones() -> None:
    with pytest.raises(InvalidInput, match="sd15-fast-test"):
        get_preset("sd15-fast")


def test_a_preset_names_its_model_files_and_its_other_options(tmp_path: Path) -> None:
    flux = get_preset("flux1-dev-likeness-16gb-fp8")
    assert list(flux.models) == ["base", "clip_l", "t5xxl", "ae"]
    t5 = flux.models["t5xxl"]
    assert (t5.option, t5.file, t5.folder) == ("t5xxl", "t5xxl_fp16.safetensors", "text_encoders")
    assert 9.5e9 < t5.size_bytes < 10e9 and t5.source.startswith("https://huggingface.co/")
    assert flux.models["base"].option == "pretrained_model_name_or_path"
    assert flux.config.fp8_base and flux.config.blocks_to_swap == 10
    (tmp_path / "musubi-like.toml").write_text(
        '[settings]\nfamily = "qwen_image"\n[options]\ndit_dtype = "bfloat16"\nfp8_scaled = true\n'
        'no_flag = false\nsizes = [1, 2]\n[models.dit]\noption = "dit"\nfile = "q.safetensors"\n'
        'size_bytes = 40_000_000_000\nfolder = "diffusion_models"\n', encoding="utf-8")
    other = load_presets(tmp_path)["musubi-like"]
    assert other.config.extra_options == (("dit_dtype", ("bfloat16",)), ("fp8_scaled", ()), ("sizes", ("1", "2")))
    assert other.models["dit"].size_bytes == 40_000_000_000
    given = other.config.with_values({"clip_l": "/m/clip_l.safetensors"})
    assert model_path(given, "clip_l") == "/m/clip_l.safetensors" and model_path(given, "dit") == ""


def test_a_broken_models_table_names_the_preset(tmp_path: Path) -> None:
    (tmp_path / "broken.toml").write_text('[settings]\nfamily = "flux1"\n[models.ae]\nfile = "ae.safetensors"\n',
                                          encoding="utf-8")
    with pytest.raises(InvalidInput, match=r"broken.toml has a broken \[models.ae\] table"):
        load_presets(tmp_path)
