"""A Wan 2.2 clip's recipe names the models it was made with and their family, and a LoRA of
another family given for either expert is refused before ComfyUI is asked."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from studio.engine.core import Studio
from studio.engine.db.models import Asset, LoraModel
from studio.engine.db.repositories import Repository
from studio.engine.errors import InvalidInput
from studio.engine.jobs.status import JobStatus
from studio.engine.media.i2v import VideoRequest, submit_video
from tests.conftest import run_next_task
from tests.fakes.comfyui_server import FakeComfyUI

HIGH = "wan2.2_i2v_high_noise_14B_fp8_scaled.safetensors"
LOW = "wan2.2_i2v_low_noise_14B_fp8_scaled.safetensors"
WEIGHTS = {"diffusion_models": [HIGH, LOW], "text_encoders": ["umt5_xxl_fp8_e4m3fn_scaled.safetensors"],
           "vae": ["wan_2.1_vae.safetensors"]}
SMALL: dict[str, object] = {"width": 160, "height": 96, "frames": 17, "steps": 4, "high_noise_steps": 2, "seed": 5}


@pytest.fixture
def fake(studio: Studio, ffmpeg: str) -> Iterator[FakeComfyUI]:
    with FakeComfyUI(checkpoints=[], loras=["mia_wan.safetensors"], ffmpeg=ffmpeg) as server:
        server.models.update(WEIGHTS)
        studio.settings.comfyui.url = server.base_url
        yield server


@pytest.fixture
def picture(tmp_path: Path) -> Path:
    path = tmp_path / "made with flux.png"
    Image.new("RGB", (96, 160), (200, 120, 150)).save(path)
    return path


def test_a_wan_clip_s_recipe_names_both_experts_and_the_family(studio: Studio, fake: FakeComfyUI,
                                                               picture: Path) -> None:
    ws = studio.workspace()
    job = submit_video(studio, ws.id, VideoRequest(image=picture, template="i2v-wan22-14b-lora", values={
        **SMALL, "lora_name": "mia_wan.safetensors", "lora_name_low": "mia_wan.safetensors"}))
    run_next_task(studio, "video")
    assert studio.jobs.get(ws.id, job.id).status == JobStatus.COMPLETED
    with studio.db.session() as session:
        (clip,) = Repository(session, ws.id).list(Asset, job_id=job.id)
    made = clip.meta["recipe"]
    assert (made["model"], made["family"], made["kind"], made["lora"]) == (HIGH, "wan22_14b", "img2video",
                                                                           "mia_wan.safetensors")
    assert made["models"]["unet_low"] == LOW and made["models"]["lora_low"] == "mia_wan.safetensors"


def test_a_lora_of_another_family_for_the_low_noise_expert_is_refused(studio: Studio, fake: FakeComfyUI,
                                                                      picture: Path) -> None:
    ws = studio.workspace()
    with studio.db.session() as session:
        Repository(session, ws.id).add(LoraModel(name="mia flux", storage_key=f"loras/{ws.id}/mia_flux.safetensors",
                                                 meta={"family": "flux1"}))
    with pytest.raises(InvalidInput, match="^The LoRA 'mia_flux.safetensors' is a FLUX.1 LoRA and the workflow "
                                           "'i2v-wan22-14b-lora' is for Wan 2.2 14B"):
        submit_video(studio, ws.id, VideoRequest(image=picture, template="i2v-wan22-14b-lora", values={
            **SMALL, "lora_name": "mia_wan.safetensors", "lora_name_low": "mia_flux.safetensors"}))
    assert fake.requests("POST", "/prompt") == []
