"""``video templates`` and ``video generate`` with the Wan 2.2 templates, through the fake ComfyUI."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from studio.engine.media.probe import probe
from tests.cli.conftest import Cli, one_error_line
from tests.fakes.comfyui_server import FakeComfyUI

WEIGHTS = {"diffusion_models": ["wan2.2_i2v_high_noise_14B_fp8_scaled.safetensors",
                                "wan2.2_i2v_low_noise_14B_fp8_scaled.safetensors"],
           "text_encoders": ["umt5_xxl_fp8_e4m3fn_scaled.safetensors"],
           "vae": ["wan_2.1_vae.safetensors"]}
SMALL = ("--set", "width=160", "--set", "height=96", "--set", "steps=4", "--set", "high_noise_steps=2")


@pytest.fixture
def picture(tmp_path: Path) -> Path:
    path = tmp_path / "mia.png"
    Image.new("RGB", (96, 160), (10, 200, 30)).save(path)
    return path


@pytest.fixture
def comfy(cli: Cli, ffmpeg: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeComfyUI]:
    monkeypatch.setattr("studio.engine.jobs.gpu.gpu_lock_path", lambda: tmp_path / "gpu.lock")
    with FakeComfyUI(checkpoints=[], loras=["mia_wan.safetensors"], ffmpeg=ffmpeg) as fake:
        fake.models.update(WEIGHTS)
        assert cli("settings", "set", "comfyui.url", fake.base_url).code == 0
        yield fake


def test_the_listing_shows_each_template_s_family_frames_and_rate(cli: Cli) -> None:
    rows = {r["name"]: r for r in cli("video", "templates", "--json").json()["templates"]}
    wan = rows["i2v-wan22-14b-lora"]
    assert (wan["base"], wan["frames"], wan["fps"], wan["size"]) == ("wan22_14b", 81, 16, "832x480")
    assert (rows["ti2v-wan22-5b"]["base"], rows["ti2v-wan22-5b"]["fps"]) == ("wan22_5b", 24)
    assert rows["flf2v-wan22-14b"]["kind"] == "flf2video"
    assert "end_image" in rows["flf2v-wan22-14b"]["parameters"]
    assert rows["i2v-animatediff-sd15-frames"]["fps"] == 8  # the rate the studio joins frames at
    table = cli("video", "templates").out.splitlines()
    assert table[0].split()[:7] == ["NAME", "FAMILY", "KIND", "FRAMES", "FPS", "SIZE", "VRAM"]
    line = next(line for line in table if line.startswith("ti2v-wan22-5b "))
    assert line.split()[1:8] == ["wan22_5b", "img2video", "121", "24", "1280x704", "~19", "GB"]
    assert 15 < wan["vram_gb"] < 25  # its experts' files are fp8: 16-bit would need about 33 GB


def test_a_wan_clip_is_made_from_the_command_line(cli: Cli, comfy: FakeComfyUI, picture: Path) -> None:
    done = cli("video", "generate", str(picture), "--template", "i2v-wan22-14b-lora", *SMALL,
               "--set", "frames=33", "--set", "lora_name=mia_wan.safetensors",
               "--prompt", "mia laughs, wind in her hair")
    assert done.code == 0, done.err
    assert "VRAM needed: about" in done.err and "Wan 2.2 14B at 160×96, 33 frames" in done.err
    info = probe(Path(done.out.strip()))
    assert info.video is not None and (info.video.frames, info.video.fps) == (33, 16)
    graph = comfy.requests("POST", "/prompt")[0].body["prompt"]
    assert [n["inputs"]["text"] for n in graph.values() if n["_meta"]["title"] == "Prompt"] == [
        "mia laughs, wind in her hair"]


def test_refusals_are_one_line_and_queue_nothing(cli: Cli, comfy: FakeComfyUI, picture: Path) -> None:
    odd = cli("video", "generate", str(picture), "--template", "i2v-wan22-14b-lora", "--set", "frames=80")
    assert odd.code == 2
    assert "makes 4n+1 frames" in one_error_line(odd.err) and "use 77 or 81" in odd.err
    alone = cli("video", "generate", str(picture), "--template", "flf2v-wan22-14b")
    assert alone.code == 2 and "needs the last frame: give it as end_image=FILE" in one_error_line(alone.err)
    assert cli("jobs", "list", "--json").json() == [] and comfy.requests("POST", "/prompt") == []


def test_without_the_weights_the_missing_files_are_named_with_their_folders(
        cli: Cli, ffmpeg: str, picture: Path) -> None:
    with FakeComfyUI(checkpoints=[], loras=[], ffmpeg=ffmpeg) as bare:
        assert cli("settings", "set", "comfyui.url", bare.base_url).code == 0
        refused = cli("video", "generate", str(picture), "--template", "flf2v-wan22-14b",
                      "--set", f"end_image={picture}")
    assert refused.code == 2
    line = one_error_line(refused.err)
    assert line.startswith("error: 4 problems: (1) The diffusion model "
                           "'wan2.2_i2v_high_noise_14B_fp8_scaled.safetensors' is not in ComfyUI's "
                           "diffusion_models folder")
    assert "'umt5_xxl_fp8_e4m3fn_scaled.safetensors' is not in ComfyUI's text_encoders folder" in line
    assert "'wan_2.1_vae.safetensors' is not in ComfyUI's vae folder" in line
    assert cli("jobs", "list", "--json").json() == []
