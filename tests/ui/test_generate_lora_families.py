"""LoRAs of today's families on the Generate page: a FLUX.1 or Qwen-Image LoRA is offered only
with its family's workflows, "Use in Generate" opens one of them, and a Wan LoRA points to the
Video page. LoRA files as FLUX.1's and musubi-tuner's trainers write their headers."""
from __future__ import annotations

from pathlib import Path

import pytest

from studio.engine.core import Studio
from studio.engine.db.models import Influencer, LoraModel
from studio.engine.loras.importing import import_lora
from studio.engine.loras.library import use_of
from studio.ui.context import StudioContext
from studio.ui.pages.generate import GeneratePage
from studio.ui.pages.generate_lora_use import apply_use
from tests.engine.loras.files import FLUX, QWEN, SDXL, WAN, write_lora
from tests.fakes.comfyui_server import FakeComfyUI
from tests.ui.helpers import LORAS, open_page

WAN_14B = {"lora_unet_blocks_0_self_attn_q.lora_down.weight": [4, 5120],
           "lora_unet_blocks_0_self_attn_q.lora_up.weight": [5120, 4]}


def _add(studio: Studio, mira: Influencer, folder: Path, name: str, metadata: dict[str, str],
         tensors: dict[str, list[int]] | None = None) -> LoraModel:
    made = write_lora(folder / f"{name}.safetensors", {**metadata, "ss_output_name": name}, tensors=tensors)
    return import_lora(studio, mira.workspace_id, made, influencer_id=mira.id)


@pytest.fixture
def page(qtbot, context: StudioContext, fake: FakeComfyUI, mira: Influencer) -> GeneratePage:
    page = open_page(qtbot, context)
    qtbot.waitUntil(lambda: page.influencer_box.count() == 2 and len(page.form.options("sampler")) > 10,
                    timeout=10_000)
    return page


def test_each_workflow_offers_only_its_family_s_loras(qtbot, studio: Studio, page: GeneratePage,
                                                      mira: Influencer, tmp_path: Path) -> None:
    for name, metadata in (("mira_flux", FLUX), ("mira_qwen", QWEN), ("mira_xl", SDXL)):
        _add(studio, mira, tmp_path, name, metadata)
    _add(studio, mira, tmp_path, "mira_wan", WAN, WAN_14B)
    expected = {"txt2img-flux1-lora": "mira_flux.safetensors", "edit-flux1-kontext": "mira_flux.safetensors",
                "txt2img-qwen-image-lora": "mira_qwen.safetensors", "edit-qwen-image": "mira_qwen.safetensors",
                "txt2img-sdxl-lora": "mira_xl.safetensors"}
    for template, lora in expected.items():
        page.select_template(template)
        qtbot.waitUntil(lambda lora=lora: page.form.options("lora_name") == ["", lora, *LORAS], timeout=10_000)


def test_use_in_generate_opens_a_workflow_of_the_lora_s_family(qtbot, studio: Studio, page: GeneratePage,
                                                               mira: Influencer, tmp_path: Path) -> None:
    page.select_template("txt2img-sd15-lora")
    qwen = _add(studio, mira, tmp_path, "mira_qwen", QWEN)
    apply_use(page, use_of(studio, mira.workspace_id, qwen.id))
    qtbot.waitUntil(lambda: page.form.value("lora_name") == "mira_qwen.safetensors", timeout=10_000)
    assert page.current_template().name == "txt2img-qwen-image-lora"  # type: ignore[union-attr]


def test_a_wan_lora_is_sent_to_the_video_page(studio: Studio, page: GeneratePage, mira: Influencer,
                                              tmp_path: Path) -> None:
    wan = _add(studio, mira, tmp_path, "mira_wan", WAN, WAN_14B)
    before = page.current_template()
    apply_use(page, use_of(studio, mira.workspace_id, wan.id))
    assert page.current_template() is before
    assert page.status.text() == ("mira_wan is a Wan 2.2 14B LoRA for clips: choose it in an image-to-video "
                                  "workflow on the Video page.")
