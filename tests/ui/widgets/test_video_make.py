"""The Video page's "Image to video" form with the Wan 2.2 workflows: their ranges, the rows they
use, and the job they queue through a fake ComfyUI with the real node definitions."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from studio.engine.core import Studio
from studio.engine.media.i2v import video_templates
from studio.ui.context import StudioContext
from studio.ui.widgets.video_make import MakeVideoBox
from tests.fakes.comfyui_server import FakeComfyUI

WEIGHTS = {"diffusion_models": ["wan2.2_i2v_high_noise_14B_fp8_scaled.safetensors",
                                "wan2.2_i2v_low_noise_14B_fp8_scaled.safetensors"],
           "text_encoders": ["umt5_xxl_fp8_e4m3fn_scaled.safetensors"],
           "vae": ["wan_2.1_vae.safetensors"]}


@pytest.fixture
def box(qtbot, context: StudioContext) -> MakeVideoBox:  # type: ignore[no-untyped-def]
    widget = MakeVideoBox(context)
    qtbot.addWidget(widget)
    qtbot.waitUntil(lambda: widget.template.count() == len(video_templates()), timeout=10_000)
    return widget


@pytest.fixture
def wan_comfy(studio: Studio) -> Iterator[FakeComfyUI]:
    with FakeComfyUI(checkpoints=[], loras=[]) as server:
        server.models.update(WEIGHTS)
        studio.settings.comfyui.url = server.base_url
        yield server


def choose(box: MakeVideoBox, name: str) -> None:
    box.template.setCurrentIndex(next(i for i in range(box.template.count())
                                      if box.template.itemData(i)[0] == name))


def test_a_wan_workflow_takes_its_frames_and_rate_and_hides_motion(box: MakeVideoBox) -> None:
    choose(box, "i2v-wan22-14b-lora")
    assert (box.frames.value(), box.fps.value()) == (81, 16)
    assert not box.form.isRowVisible(box.motion) and not box.form.isRowVisible(box.last_frame_row)
    choose(box, "ti2v-wan22-5b")
    assert (box.frames.value(), box.fps.value()) == (121, 24)
    choose(box, "i2v-svd")
    assert box.form.isRowVisible(box.motion) and box.motion.value() == 127


def test_first_and_last_frame_asks_for_both_pictures_and_queues_them(
        qtbot, box: MakeVideoBox, wan_comfy: FakeComfyUI, context: StudioContext,  # type: ignore[no-untyped-def]
        tmp_path: Path) -> None:
    first, last = tmp_path / "first.png", tmp_path / "last.png"
    Image.new("RGB", (96, 160), (200, 120, 150)).save(first)
    Image.new("RGB", (96, 160), (20, 120, 250)).save(last)
    choose(box, "flf2v-wan22-14b")
    assert box.form.isRowVisible(box.last_frame_row)
    box.image_path.setText(str(first))
    box.make_button.click()
    assert box.make_status.text() == "Choose the picture the clip ends on too."
    box.last_frame.setText(str(last))
    box.prompt.setText("mia walks from the door to the window")
    with qtbot.waitSignal(box.video_queued, timeout=15_000) as queued:
        box.make_button.click()
    job = context.studio.jobs.get(context.workspace_id, queued.args[0])
    assert set(job.payload["images"]) == {"input_image", "end_image"}
    assert job.payload["values"]["positive"] == "mia walks from the door to the window"
    assert job.payload["values"]["frames"] == 81 and "motion" not in job.payload["values"]


def test_the_vram_a_workflow_needs_follows_the_frames(box: MakeVideoBox) -> None:
    choose(box, "i2v-wan22-14b-lora")
    assert box.vram.text().startswith("VRAM needed: about 19 GB (an estimate for Wan 2.2 14B at "
                                      "832×480, 81 frames, fp8 weights)")
    box.frames.setValue(161)
    assert "161 frames" in box.vram.text()
    choose(box, "i2v-svd")  # no figures for SVD: no line
    assert box.vram.text() == "" and not box.form.isRowVisible(box.vram)
