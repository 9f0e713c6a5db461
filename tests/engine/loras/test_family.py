"""A LoRA's model family from its metadata: the model spec first, sd-scripts' version second."""
from __future__ import annotations

import pytest

from studio.engine.loras.family import family_of, offered_with


@pytest.mark.parametrize(("metadata", "family"), [
    ({"modelspec.architecture": "stable-diffusion-xl-v1-base/lora"}, "sdxl"),
    ({"modelspec.architecture": "stable-diffusion-v1/lora"}, "sd15"),
    ({"modelspec.architecture": "stable-diffusion-3-5-large/lora"}, "sd35"),
    ({"modelspec.architecture": "stable-diffusion-3-medium/lora"}, "sd3"),
    ({"modelspec.architecture": "flux-1-dev/lora"}, "flux1"),
    ({"modelspec.architecture": "qwen-image/lora"}, "qwen-image"),
    ({"ss_base_model_version": "sdxl_base_v1-0"}, "sdxl"),
    ({"ss_base_model_version": "sd_v1"}, "sd15"),
    ({"ss_base_model_version": "sd_v2_768_v"}, "sd2"),
    ({"ss_base_model_version": "flux1"}, "flux1"),
    # The model spec wins where the two disagree: it names the architecture itself.
    ({"modelspec.architecture": "stable-diffusion-v1/lora", "ss_base_model_version": "sdxl_base_v1-0"}, "sd15"),
    ({"modelspec.architecture": "", "ss_base_model_version": "sd_v1"}, "sd15"),
    ({"ss_network_dim": "16"}, None),
    ({"modelspec.architecture": "something-new/lora"}, None),
])
def test_the_family_is_read_from_the_metadata(metadata: dict[str, str], family: str | None) -> None:
    assert family_of(metadata) == family


def test_a_lora_goes_with_templates_of_its_family_and_an_unknown_one_with_all() -> None:
    assert offered_with("sdxl", "sdxl") and not offered_with("sdxl", "sd15")
    assert offered_with(None, "sd15") and offered_with("sdxl", "other") and offered_with("flux1", None)
