"""A LoRA's model family (training.config.FAMILIES: sd15, sdxl, flux1, sd35, qwen_image,
wan22_14b, wan22_5b) from its file's header.

The model spec's ``modelspec.architecture`` is read first (sd-scripts writes
``stable-diffusion-xl-v1-base/lora``, ``flux-1-dev/lora``, ``stable-diffusion-3-5-large/lora``;
musubi-tuner ``Qwen-Image/lora`` and, for every Wan LoRA, 2.2 included, ``wan2.1/lora``);
sd-scripts' and musubi-tuner's ``ss_base_model_version`` second (``sdxl_base_v1-0``, ``flux1``,
``qwen_image``, ``wan``); the tensor names last (``lora_unet_double_blocks_…`` is FLUX.1). Wan
does not say which size it was trained on, so the width of its attention layers does: 5120 for
the A14B experts, 3072 for TI2V 5B. A few families no template uses (sd2, sd3, flux2, chroma,
wan21 1.3B) are named so that their LoRAs are never offered with one that would break; a file
that says nothing the studio knows has no family and is offered with every template.
"""
from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

# How the window names each family (the studio's own names first, then the ones no template uses).
FAMILY_TITLES = {"sd15": "SD 1.5", "sdxl": "SDXL", "flux1": "FLUX.1", "sd35": "SD 3.5",
                 "qwen_image": "Qwen-Image", "wan22_14b": "Wan 2.2 14B", "wan22_5b": "Wan 2.2 5B",
                 "sd2": "SD 2", "sd3": "SD 3", "flux2": "FLUX.2", "chroma": "Chroma", "wan21": "Wan 2.1 1.3B"}
VIDEO_FAMILIES = ("wan22_14b", "wan22_5b", "wan21")  # their LoRAs go into clips, not pictures
Shapes = Mapping[str, Sequence[int]]  # tensor name -> shape, as the safetensors header gives it

# Substrings of either field, most specific first: "stable-diffusion-3-5" before "stable-diffusion-3".
_RULES: tuple[tuple[tuple[str, ...], str], ...] = (
    (("stable-diffusion-xl", "sdxl"), "sdxl"),
    (("stable-diffusion-v1", "sd_v1"), "sd15"),
    (("stable-diffusion-v2", "sd_v2"), "sd2"),
    (("stable-diffusion-3-5", "sd3.5", "sd3-5", "sd35"), "sd35"),
    (("stable-diffusion-3", "sd3"), "sd3"),
    (("flux.2", "flux-2", "flux2"), "flux2"),
    (("chroma",), "chroma"),
    (("flux",), "flux1"),
    (("qwen-image", "qwen_image"), "qwen_image"),
    (("wan",), "wan"),  # resolved to a size below
)
# Tensor-name fragments (dots read as underscores), for a file whose metadata says nothing.
_KEY_RULES: tuple[tuple[tuple[str, ...], str], ...] = (
    (("double_blocks", "single_blocks", "single_transformer_blocks"), "flux1"),
    (("img_mlp", "txt_mlp"), "qwen_image"),
    (("joint_blocks",), "sd35"),
    (("self_attn_q", "cross_attn_k_img", "blocks_0_ffn"), "wan"),
    (("lora_te1_", "lora_te2_", "input_blocks", "output_blocks", "middle_block"), "sdxl"),
    (("lora_te_", "down_blocks", "up_blocks", "mid_block"), "sd15"),
)
_EARLIER_NAMES = {"qwen-image": "qwen_image", "wan22": "wan22_14b"}
_WAN_WIDTHS = {5120: "wan22_14b", 3072: "wan22_5b", 1536: "wan21"}
_WAN_QUERY = re.compile(r"self_attn_q\w*(lora_down|lora_a)")  # sd-scripts' names, or PEFT's lora_A


def family_of(metadata: Mapping[str, str], shapes: Shapes | None = None) -> str | None:
    """The family the header names, or None when it names none the studio knows."""
    shapes = shapes or {}
    found = _from_fields(metadata) or _from_keys(shapes)
    if found == "wan":
        return _wan_size(metadata, shapes)
    return found


def a_title(family: str | None) -> str:
    """'a FLUX.1', 'an SDXL': the family's title with the article it is read with."""
    title = FAMILY_TITLES.get(family or "", family or "unknown")
    return f"an {title}" if title.startswith(("SD", "unknown")) else f"a {title}"


def canonical(family: str | None) -> str | None:
    """A family as rows recorded it before the names were settled ("qwen-image", "wan22")."""
    return _EARLIER_NAMES.get(family, family) if family else None


def offered_with(lora_family: str | None, template_family: str | None) -> bool:
    """Whether a LoRA goes with a template: same family, or either is unknown ("other")."""
    return lora_family is None or template_family in (None, "other") or lora_family == template_family


def _from_fields(metadata: Mapping[str, str]) -> str | None:
    for field in ("modelspec.architecture", "ss_base_model_version"):
        text = str(metadata.get(field, "")).strip().lower()
        if not text:
            continue
        for needles, family in _RULES:
            if any(needle in text for needle in needles):
                return family
    return None


def _from_keys(shapes: Shapes) -> str | None:
    names = [name.lower().replace(".", "_") for name in shapes]
    for needles, family in _KEY_RULES:
        if any(needle in name for name in names for needle in needles):
            return family
    return None


def _wan_size(metadata: Mapping[str, str], shapes: Shapes) -> str:
    """Wan's size by its query layers' width; else by the base model's file name; else A14B,
    the one Wan 2.1 14B LoRAs also fit."""
    for name, shape in shapes.items():
        if _WAN_QUERY.search(name.lower().replace(".", "_")) and len(shape) == 2:
            return _WAN_WIDTHS.get(int(shape[1]), "wan22_14b")
    model = " ".join(str(metadata.get(k, "")) for k in ("ss_sd_model_name", "modelspec.title")).lower()
    return "wan22_5b" if "ti2v" in model or "5b" in model else "wan22_14b"
