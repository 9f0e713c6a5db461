"""Training config: presets from resources, overrides by sd-scripts' own option names."""
from __future__ import annotations

import pytest

from studio.engine.errors import InvalidInput
from studio.engine.training.config import TrainingConfig, get_preset, load_presets

NAMED = {"sd15-likeness-12gb", "sd15-likeness-24gb", "sd15-fast-test", "sdxl-likeness-12gb",
         "sdxl-likeness-24gb", "sdxl-fast-test"}


def test_every_preset_named_by_the_issue_loads_with_its_family_and_vram() -> None:
    presets = load_presets()
    assert set(presets) == NAMED
    for slug, preset in presets.items():
        family, purpose = slug.split("-", 1)
        assert preset.config.family == family and preset.title
        if purpose.endswith("gb"):
            assert preset.config.vram_gb == int(purpose.rsplit("-", 1)[1].removesuffix("gb"))
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
