"""A LoRA's model family (sd15, sdxl, sd35, flux1, qwen-image, wan22, …) from its file's metadata.

The model spec's ``modelspec.architecture`` (``stable-diffusion-xl-v1-base/lora``) is read first;
sd-scripts' ``ss_base_model_version`` (``sdxl_base_v1-0``, ``sd_v1``, ``flux1``) second. A file that
says neither has no known family: Generate offers it with every template.
"""
from __future__ import annotations

# Substrings of either field, most specific first: "stable-diffusion-3-5" before "stable-diffusion-3".
_RULES: tuple[tuple[tuple[str, ...], str], ...] = (
    (("stable-diffusion-xl", "sdxl"), "sdxl"),
    (("stable-diffusion-v1", "sd_v1"), "sd15"),
    (("stable-diffusion-v2", "sd_v2"), "sd2"),
    (("stable-diffusion-3-5", "sd3.5", "sd3-5", "sd35"), "sd35"),
    (("stable-diffusion-3", "sd3"), "sd3"),
    (("flux", "chroma"), "flux1"),
    (("qwen-image", "qwen_image"), "qwen-image"),
    (("wan2.2", "wan2-2", "wan22", "wan2_2"), "wan22"),
    (("wan2.1", "wan2-1", "wan21", "wan2_1"), "wan21"),
)


def family_of(metadata: dict[str, str]) -> str | None:
    """The family the metadata names, or None when it names none the studio knows."""
    for field in ("modelspec.architecture", "ss_base_model_version"):
        text = metadata.get(field, "").strip().lower()
        if not text:
            continue
        for needles, family in _RULES:
            if any(needle in text for needle in needles):
                return family
    return None


def offered_with(lora_family: str | None, template_family: str | None) -> bool:
    """Whether a LoRA goes with a template: same family, or either is unknown ("other")."""
    return lora_family is None or template_family in (None, "other") or lora_family == template_family
