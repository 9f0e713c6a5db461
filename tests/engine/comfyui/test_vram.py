"""The VRAM estimate shown before a template is queued: by family, size, frames and weights."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from studio.engine.comfyui.vram import FAMILIES, VramEstimate, estimate, estimate_for
from studio.engine.comfyui.workflows import WorkflowTemplate, load_templates, load_user_workflow
from studio.engine.training.config import FAMILIES as TRAINING_FAMILIES
from tests.engine.comfyui.captured import txt2img


@pytest.fixture(scope="module")
def templates() -> dict[str, WorkflowTemplate]:
    return load_templates().templates


def found(value: VramEstimate | None) -> VramEstimate:
    assert value is not None
    return value


def test_every_family_has_figures() -> None:
    assert set(FAMILIES) == set(TRAINING_FAMILIES)


def test_the_figures_follow_the_published_model_sizes() -> None:
    # FLUX.1 dev: 12B parameters, about 24 GB at 16 bits; a 24 GB card needs fp8 weights.
    flux = estimate("flux1", 1024, 1024)
    assert flux is not None and 24 < flux.gb < 32 and flux.fp8_gb is not None and flux.fp8_gb < 20
    sd15, sdxl = estimate("sd15", 512, 512), estimate("sdxl", 1024, 1024)
    assert sd15 is not None and sdxl is not None and sd15.gb < sdxl.gb < flux.fp8_gb
    assert sd15.fp8_gb is None and sdxl.fp8_gb is None  # small enough: no fp8 advice
    qwen = estimate("qwen_image", 1328, 1328, fp8=True)
    assert qwen is not None and qwen.fp8_gb is None and 20 < qwen.gb < 30


def test_more_pixels_frames_and_images_need_more() -> None:
    def gb(family: str, width: int, height: int, *, fp8: bool = False, batch: int = 1,
           frames: int = 1) -> float:
        return found(estimate(family, width, height, fp8=fp8, batch=batch, frames=frames)).gb
    assert gb("flux1", 1024, 1024) < gb("flux1", 1536, 1536)
    assert gb("flux1", 1024, 1024) < gb("flux1", 1024, 1024, batch=4)
    # Wan's latent holds one frame per four: 81 frames are 21 latent frames.
    assert gb("wan22_14b", 832, 480, fp8=True, frames=81) > gb("wan22_14b", 832, 480, fp8=True, frames=17)
    assert gb("wan22_14b", 832, 480, frames=81) > gb("wan22_14b", 832, 480, fp8=True, frames=81)


def test_an_unknown_family_or_size_has_no_estimate() -> None:
    assert estimate("other", 1024, 1024) is None
    assert estimate("flux1", 0, 1024) is None


def test_the_line_says_it_is_an_estimate_and_what_fp8_would_need() -> None:
    flux = found(estimate("flux1", 1024, 1024))
    assert flux.line == ("VRAM needed: about 27 GB (an estimate for FLUX.1 at 1024×1024, 16-bit "
                         "weights); about 15 GB with fp8 weights (weight_dtype fp8_e4m3fn).")
    clip = estimate("wan22_14b", 832, 480, fp8=True, frames=81)
    assert clip is not None
    assert clip.line == ("VRAM needed: about 19 GB (an estimate for Wan 2.2 14B at 832×480, "
                         "81 frames, fp8 weights).")


def test_a_template_is_estimated_from_its_family_values_and_defaults(templates: dict[str, WorkflowTemplate]) -> None:
    flux = templates["txt2img-flux1-lora"]
    default = estimate_for(flux, {})
    assert default is not None and (default.family, default.width, default.height) == ("flux1", 1024, 1024)
    assert not default.fp8
    lighter = estimate_for(flux, {"weight_dtype": "fp8_e4m3fn", "width": "768"})
    assert lighter is not None and lighter.fp8 and lighter.width == 768 and lighter.gb < default.gb
    # Qwen-Image's default file is fp8 already; a 16-bit file named instead needs more.
    qwen = templates["txt2img-qwen-image-lora"]
    fp8 = estimate_for(qwen, {})
    full = estimate_for(qwen, {"model": "qwen_image_bf16.safetensors"})
    assert fp8 is not None and full is not None and fp8.fp8 and not full.fp8 and full.gb > fp8.gb
    # An edit is sized by its picture: counted at its megapixels.
    edit = estimate_for(templates["edit-qwen-image"], {"megapixels": 2.0})
    assert edit is not None and edit.by_area and "about 2.0 megapixels" in edit.line


def test_a_users_workflow_has_no_estimate(tmp_path: Path) -> None:
    path = tmp_path / "mine.json"
    path.write_text(json.dumps(txt2img()), encoding="utf-8")
    assert estimate_for(load_user_workflow(path), {}) is None
