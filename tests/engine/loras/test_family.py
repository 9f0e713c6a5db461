"""A LoRA's model family from its header: the model spec first, the trainer's version second, the
tensor names last; Wan's size from its attention layers' width. The architecture values are the
ones the trainers' own build_metadata returned when run here (sd-scripts main, musubi-tuner 30c658c)."""
from __future__ import annotations

from pathlib import Path

import pytest

from studio.engine.loras.family import family_of, offered_with
from studio.engine.loras.safetensors import read_header
from studio.engine.training.config import FAMILIES
from tests.engine.loras.files import FLUX, QWEN, WAN, write_lora


@pytest.mark.parametrize(("metadata", "family"), [
    ({"modelspec.architecture": "stable-diffusion-xl-v1-base/lora"}, "sdxl"),
    ({"modelspec.architecture": "stable-diffusion-v1/lora"}, "sd15"),
    ({"modelspec.architecture": "stable-diffusion-3-5-large/lora"}, "sd35"),
    ({"modelspec.architecture": "stable-diffusion-3-5-medium/lora"}, "sd35"),
    ({"modelspec.architecture": "stable-diffusion-3-medium/lora"}, "sd3"),
    ({"modelspec.architecture": "flux-1-dev/lora"}, "flux1"),
    ({"modelspec.architecture": "flux-1-schnell/lora"}, "flux1"),
    ({"modelspec.architecture": "Flux.1-dev/lora"}, "flux1"),  # musubi-tuner's FLUX.1 Kontext
    ({"modelspec.architecture": "Flux.2-dev/lora"}, "flux2"),
    ({"modelspec.architecture": "chroma/lora"}, "chroma"),
    ({"modelspec.architecture": "Qwen-Image/lora"}, "qwen_image"),
    ({"modelspec.architecture": "Qwen-Image-Edit-Plus/lora"}, "qwen_image"),
    ({"ss_base_model_version": "sdxl_base_v1-0"}, "sdxl"),
    ({"ss_base_model_version": "sd_v1"}, "sd15"),
    ({"ss_base_model_version": "sd_v2_768_v"}, "sd2"),
    ({"ss_base_model_version": "flux1"}, "flux1"),
    ({"ss_base_model_version": "qwen_image"}, "qwen_image"),
    # The model spec wins where the two disagree: it names the architecture itself.
    ({"modelspec.architecture": "stable-diffusion-v1/lora", "ss_base_model_version": "sdxl_base_v1-0"}, "sd15"),
    ({"modelspec.architecture": "", "ss_base_model_version": "sd_v1"}, "sd15"),
    ({"ss_network_dim": "16"}, None),
    ({"modelspec.architecture": "something-new/lora"}, None),
])
def test_the_family_is_read_from_the_metadata(metadata: dict[str, str], family: str | None) -> None:
    assert family_of(metadata) == family


def test_the_families_templates_use_are_the_trainings_names() -> None:
    named = {family_of(m) for m in ({"modelspec.architecture": "flux-1-dev/lora"}, QWEN, FLUX,
                                    {"modelspec.architecture": "stable-diffusion-3-5-large/lora"})}
    assert named <= set(FAMILIES)


def _wan(path: Path, width: int, metadata: dict[str, str] | None = WAN) -> str | None:
    tensors = {"lora_unet_blocks_0_self_attn_q.lora_down.weight": [4, width],
               "lora_unet_blocks_0_self_attn_q.lora_up.weight": [width, 4]}
    header = read_header(write_lora(path, metadata, tensors=tensors))
    return family_of(header.metadata, header.shapes)


def test_a_wan_lora_s_size_is_told_by_its_attention_width(tmp_path: Path) -> None:
    # musubi-tuner writes "wan2.1/lora" and "wan" for Wan 2.2 LoRAs too; the width tells them apart.
    assert _wan(tmp_path / "a14b.safetensors", 5120) == "wan22_14b"
    assert _wan(tmp_path / "ti2v.safetensors", 3072) == "wan22_5b"
    assert _wan(tmp_path / "small.safetensors", 1536) == "wan21"  # Wan 2.1 1.3B: no template takes it
    assert _wan(tmp_path / "bare.safetensors", 3072, None) == "wan22_5b"  # from the tensor names alone
    # A LoRA saved the way ComfyUI and diffusers name it (PEFT's lora_A / lora_B).
    peft = {"diffusion_model.blocks.0.self_attn.q.lora_A.weight": [8, 3072],
            "diffusion_model.blocks.0.self_attn.q.lora_B.weight": [3072, 8]}
    assert family_of({}, peft) == "wan22_5b"


def test_a_wan_lora_without_shapes_goes_by_its_base_model_s_name() -> None:
    assert family_of({**WAN, "ss_sd_model_name": "wan2.2_ti2v_5B_fp16.safetensors"}) == "wan22_5b"
    assert family_of({**WAN, "ss_sd_model_name": "wan2.2_i2v_high_noise_14B_fp16.safetensors"}) == "wan22_14b"


@pytest.mark.parametrize(("names", "family"), [
    (["lora_unet_double_blocks_0_img_attn_qkv.lora_down.weight"], "flux1"),
    (["diffusion_model.single_blocks.3.linear1.lora_A.weight"], "flux1"),
    (["lora_unet_transformer_blocks_0_img_mlp_net_0_proj.lora_down.weight"], "qwen_image"),
    (["lora_unet_joint_blocks_0_x_block_attn_qkv.lora_down.weight"], "sd35"),
    (["lora_te1_text_model_encoder_layers_0_mlp_fc1.lora_down.weight"], "sdxl"),
    (["lora_unet_input_blocks_4_1_proj_in.lora_down.weight"], "sdxl"),
    (["lora_te_text_model_encoder_layers_0_mlp_fc1.lora_down.weight"], "sd15"),
    (["lora_unet_down_blocks_0_attentions_0_proj_in.lora_down.weight"], "sd15"),
    (["lora_unet_a.lora_down.weight"], None),
])
def test_a_file_without_metadata_is_known_by_its_tensor_names(names: list[str], family: str | None) -> None:
    assert family_of({}, {name: [4, 64] for name in names}) == family


def test_a_lora_goes_with_templates_of_its_family_and_an_unknown_one_with_all() -> None:
    assert offered_with("sdxl", "sdxl") and not offered_with("sdxl", "sd15")
    assert not offered_with("flux1", "qwen_image") and not offered_with("wan22_5b", "wan22_14b")
    assert offered_with(None, "sd15") and offered_with("sdxl", "other") and offered_with("flux1", None)
