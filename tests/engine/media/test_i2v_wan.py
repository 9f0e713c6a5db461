"""Wan 2.2 video templates (14B image to video, TI2V 5B, first-last frame) through the fake ComfyUI.

The fake's node definitions are the real ComfyUI 0.3.64's; its SaveVideo writes a real H.264
clip of the frames, rate and size the graph asks for, so the studio probes a real file.
"""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from studio.engine.comfyui.validation import WorkflowInvalid
from studio.engine.core import Studio
from studio.engine.db.models import Asset, LoraModel
from studio.engine.db.repositories import Repository
from studio.engine.errors import InvalidInput
from studio.engine.media.i2v import VideoRequest, submit_video, video_templates
from studio.engine.media.probe import probe
from studio.engine.storage.local import LocalStore
from studio.engine.training.config import FAMILIES
from tests.conftest import run_next_task
from tests.fakes.comfyui_nodes import REAL_OBJECT_INFO
from tests.fakes.comfyui_server import FakeComfyUI

WAN = ("i2v-wan22-14b-lora", "ti2v-wan22-5b", "flf2v-wan22-14b")
HIGH = "wan2.2_i2v_high_noise_14B_fp8_scaled.safetensors"
LOW = "wan2.2_i2v_low_noise_14B_fp8_scaled.safetensors"
FIVE_B = "wan2.2_ti2v_5B_fp16.safetensors"
UMT5 = "umt5_xxl_fp8_e4m3fn_scaled.safetensors"
WEIGHTS = {"diffusion_models": [HIGH, LOW, FIVE_B], "text_encoders": [UMT5],
           "vae": ["wan_2.1_vae.safetensors", "wan2.2_vae.safetensors"]}
SMALL: dict[str, object] = {"width": 160, "height": 96, "frames": 17, "steps": 4, "high_noise_steps": 2, "seed": 11}


@pytest.fixture
def fake(studio: Studio, ffmpeg: str) -> Iterator[FakeComfyUI]:
    with FakeComfyUI(checkpoints=[], loras=["mia_wan_high.safetensors", "mia_wan_low.safetensors"],
                     ffmpeg=ffmpeg) as server:
        server.models.update(WEIGHTS)
        studio.settings.comfyui.url = server.base_url
        yield server


@pytest.fixture
def pictures(tmp_path: Path) -> tuple[Path, Path]:
    first, last = tmp_path / "mia start.png", tmp_path / "mia end.png"
    Image.new("RGB", (96, 160), (200, 120, 150)).save(first)
    Image.new("RGB", (96, 160), (40, 90, 200)).save(last)
    return first, last


def sent(fake: FakeComfyUI) -> dict[str, Any]:
    graph: dict[str, Any] = fake.requests("POST", "/prompt")[-1].body["prompt"]
    return graph


def of_class(graph: dict[str, Any], class_type: str) -> list[dict[str, Any]]:
    return [graph[n]["inputs"] for n in sorted(graph, key=int) if graph[n]["class_type"] == class_type]


def made_clip(studio: Studio, job_id: Any) -> Asset:
    ws = studio.workspace()
    run_next_task(studio, "video")
    done = studio.jobs.get(ws.id, job_id)
    assert done.status == "completed", done.error
    with studio.db.session() as session:
        (asset,) = Repository(session, ws.id).list(Asset, job_id=job_id)
        return asset


def test_the_wan_templates_name_their_family_defaults_and_model_files() -> None:
    templates = video_templates()
    expected = {"i2v-wan22-14b-lora": ("wan22_14b", "img2video", 81, 16, 832, 480),
                "ti2v-wan22-5b": ("wan22_5b", "img2video", 121, 24, 1280, 704),
                "flf2v-wan22-14b": ("wan22_14b", "flf2video", 81, 16, 832, 480)}
    for name, (base, kind, frames, fps, width, height) in expected.items():
        template = templates[name]
        params = template.parameters
        assert (template.base, template.kind) == (base, kind) and base in FAMILIES
        assert [params[p].default for p in ("frames", "fps", "width", "height")] == [
            frames, fps, width, height]
        assert params["shift"].default == 8.0 and params["lora_name"].default == ""
        # Core nodes of ComfyUI 0.3.64 only, and only the inputs the real nodes declare.
        for node in template.graph.values():
            spec = REAL_OBJECT_INFO[node["class_type"]]["input"]
            assert set(node["inputs"]) <= {*spec["required"], *spec.get("optional", {})}
        folders = {slot.folder: slot.file for slot in template.models.values() if slot.file}
        assert folders["text_encoders"] == UMT5
    fourteen = templates["i2v-wan22-14b-lora"].models
    assert (fourteen["unet"].file, fourteen["unet_low"].file) == (HIGH, LOW)
    assert fourteen["unet"].source.startswith("https://huggingface.co/Comfy-Org/")
    assert fourteen["vae"].file == "wan_2.1_vae.safetensors"
    assert templates["ti2v-wan22-5b"].models["vae"].file == "wan2.2_vae.safetensors"
    assert templates["ti2v-wan22-5b"].models["unet"].folder == "diffusion_models"


def test_14b_image_to_video_runs_two_experts_with_the_lora_on_each(
        studio: Studio, fake: FakeComfyUI, pictures: tuple[Path, Path]) -> None:
    ws = studio.workspace()
    job = submit_video(studio, ws.id, VideoRequest(image=pictures[0], template=WAN[0], values={
        **SMALL, "positive": "mia turns to the camera and smiles", "lora_name": "mia_wan_high.safetensors",
        "lora_name_low": "mia_wan_low.safetensors", "lora_strength_low": 0.7}))
    asset = made_clip(studio, job.id)
    graph = sent(fake)
    high, low = of_class(graph, "KSamplerAdvanced")
    # The high-noise half stops at the split and leaves its noise; the low-noise half goes on.
    assert (high["add_noise"], high["return_with_leftover_noise"]) == ("enable", "enable")
    assert (low["add_noise"], low["return_with_leftover_noise"]) == ("disable", "disable")
    assert high["start_at_step"] == 0 and high["end_at_step"] == low["start_at_step"] == 2
    assert high["steps"] == low["steps"] == 4 and high["noise_seed"] == low["noise_seed"] == 11
    assert low["latent_image"] == [next(n for n in graph if graph[n]["inputs"] is high), 0]
    loras = of_class(graph, "LoraLoaderModelOnly")
    assert [(x["lora_name"], x["strength_model"]) for x in loras] == [
        ("mia_wan_high.safetensors", 1.0), ("mia_wan_low.safetensors", 0.7)]
    assert [x["shift"] for x in of_class(graph, "ModelSamplingSD3")] == [8.0, 8.0]
    assert [x["unet_name"] for x in of_class(graph, "UNETLoader")] == [HIGH, LOW]
    assert of_class(graph, "WanImageToVideo")[0]["length"] == 17
    info = probe(studio.asset_path(asset.storage_key))
    assert info.video is not None and (info.video.frames, info.video.fps) == (17, 16)
    assert (asset.meta["width"], asset.meta["height"]) == (160, 96)
    assert asset.meta["recipe"]["template"] == WAN[0]
    assert asset.meta["recipe"]["values"]["lora_name_low"] == "mia_wan_low.safetensors"


def test_one_lora_goes_on_both_experts_and_none_bypasses_both(
        studio: Studio, fake: FakeComfyUI, pictures: tuple[Path, Path]) -> None:
    ws = studio.workspace()
    submit_video(studio, ws.id, VideoRequest(image=pictures[0], template=WAN[0], values={
        **SMALL, "lora_name": "mia_wan_high.safetensors", "lora_strength": 0.9}))
    both = of_class(_queued_graph(studio, fake), "LoraLoaderModelOnly")
    assert [(x["lora_name"], x["strength_model"]) for x in both] == [
        ("mia_wan_high.safetensors", 0.9)] * 2
    submit_video(studio, ws.id, VideoRequest(image=pictures[0], template=WAN[0], values=SMALL))
    graph = _queued_graph(studio, fake)
    assert of_class(graph, "LoraLoaderModelOnly") == []
    unets = [n for n in graph if graph[n]["class_type"] == "UNETLoader"]
    assert [x["model"] for x in of_class(graph, "ModelSamplingSD3")] == [[u, 0] for u in unets]


def _queued_graph(studio: Studio, fake: FakeComfyUI) -> dict[str, Any]:
    """Runs the next queued video job and returns the graph it sent."""
    run_next_task(studio, "video")
    return sent(fake)


def test_5b_makes_a_24_fps_clip_with_the_wan22_vae(
        studio: Studio, fake: FakeComfyUI, pictures: tuple[Path, Path]) -> None:
    ws = studio.workspace()
    job = submit_video(studio, ws.id, VideoRequest(image=pictures[0], template=WAN[1], values={
        "width": 160, "height": 96, "frames": 25, "steps": 3, "positive": "mia waves"}))
    asset = made_clip(studio, job.id)
    graph = sent(fake)
    (latent,) = of_class(graph, "Wan22ImageToVideoLatent")
    assert latent["length"] == 25 and graph[latent["start_image"][0]]["class_type"] == "LoadImage"
    assert of_class(graph, "VAELoader")[0]["vae_name"] == "wan2.2_vae.safetensors"
    assert of_class(graph, "KSampler")[0]["sampler_name"] == "uni_pc"
    info = probe(studio.asset_path(asset.storage_key))
    assert info.video is not None and (info.video.frames, info.video.fps) == (25, 24)


def test_first_and_last_frame_uploads_both_pictures(
        studio: Studio, fake: FakeComfyUI, pictures: tuple[Path, Path]) -> None:
    ws = studio.workspace()
    first, last = pictures
    job = submit_video(studio, ws.id, VideoRequest(image=first, template=WAN[2], values={
        **SMALL, "end_image": str(last)}))
    assert set(job.payload["images"]) == {"input_image", "end_image"}
    asset = made_clip(studio, job.id)
    assert len(fake.requests("POST", "/upload/image")) == 2
    graph = sent(fake)
    (flf,) = of_class(graph, "WanFirstLastFrameToVideo")
    start, end = (graph[flf[k][0]]["inputs"]["image"] for k in ("start_image", "end_image"))
    assert start != end and start.startswith("studio-") and end.startswith("studio-")
    recipe = asset.meta["recipe"]
    assert recipe["values"]["end_image"] == job.payload["images"]["end_image"]
    again = submit_video(studio, ws.id, VideoRequest(image=Path(asset.meta["source_image"]),
                                                     template=recipe["template"], values=recipe["values"]))
    assert again.payload["images"] == job.payload["images"]  # made again from the same two pictures
    with pytest.raises(InvalidInput, match="needs the last frame: give it as end_image=FILE"):
        submit_video(studio, ws.id, VideoRequest(image=first, template=WAN[2], values=SMALL))


@pytest.mark.parametrize(("values", "refusal"), [
    ({"frames": 80}, r"Wan 2\.2 14B makes 4n\+1 frames \(73, 77, 81…\); 80 is not one: use 77 or 81\."),
    ({"frames": 83}, r"83 is not one: use 81 or 85\."),
    ({"steps": 8, "high_noise_steps": 8}, r"high_noise_steps \(8\) must be fewer than steps \(8\)"),
    ({"width": 830}, r"width must be a multiple of 16, not 830\."),
])
def test_wan_rules_are_checked_before_comfyui_is_asked(
        studio: Studio, fake: FakeComfyUI, pictures: tuple[Path, Path], values: dict[str, object],
        refusal: str) -> None:
    ws = studio.workspace()
    with pytest.raises(InvalidInput, match=refusal):
        submit_video(studio, ws.id, VideoRequest(image=pictures[0], template=WAN[0], values=values))
    assert fake.received == [] and studio.jobs.list(ws.id) == []


def test_without_the_weights_only_the_missing_model_files_are_named(
        studio: Studio, ffmpeg: str, pictures: tuple[Path, Path]) -> None:
    ws = studio.workspace()
    with FakeComfyUI(checkpoints=[], loras=[], ffmpeg=ffmpeg) as bare:  # ComfyUI with no weights
        studio.settings.comfyui.url = bare.base_url
        with pytest.raises(WorkflowInvalid) as raised:
            submit_video(studio, ws.id, VideoRequest(image=pictures[0], template=WAN[1]))
        assert bare.requests("POST", "/prompt") == []
    assert {p.kind for p in raised.value.problems} == {"missing_model"}
    text = str(raised.value)
    assert text.startswith("3 problems:")
    for name, folder in ((FIVE_B, "diffusion_models"), (UMT5, "text_encoders"),
                         ("wan2.2_vae.safetensors", "vae")):
        assert f"'{name}' is not in ComfyUI's {folder} folder" in text
    assert studio.jobs.list(ws.id) == []


def _library_lora(studio: Studio, name: str, family: str) -> bytes:
    workspace = studio.workspace()
    key = f"loras/{workspace.id}/{name}"
    data = f"{name} weights".encode() * 100
    LocalStore(studio.paths.assets_dir).put_bytes(data, key)
    with studio.db.session() as session:
        Repository(session, workspace.id).add(LoraModel(name=name, storage_key=key, meta={"family": family}))
    return data


def test_the_studio_s_loras_for_both_experts_reach_comfyui_s_folder(
        studio: Studio, ffmpeg: str, pictures: tuple[Path, Path], tmp_path: Path) -> None:
    ws = studio.workspace()
    high = _library_lora(studio, "mia_wan_high.safetensors", "wan22_14b")
    low = _library_lora(studio, "mia_wan_low.safetensors", "wan22_14b")
    _library_lora(studio, "mia_sdxl.safetensors", "sdxl")
    folder = tmp_path / "ComfyUI" / "models" / "loras"
    with FakeComfyUI(checkpoints=[], loras=[], loras_dir=folder, ffmpeg=ffmpeg) as server:
        server.models.update(WEIGHTS)
        studio.settings.comfyui.url = server.base_url
        studio.settings.comfyui.loras_dir = str(folder)
        with pytest.raises(InvalidInput, match="'mia_sdxl.safetensors' is an? SDXL LoRA"):
            submit_video(studio, ws.id, VideoRequest(image=pictures[0], template=WAN[0], values={
                **SMALL, "lora_name": "mia_sdxl.safetensors"}))
        job = submit_video(studio, ws.id, VideoRequest(image=pictures[0], template=WAN[0], values={
            **SMALL, "lora_name": "mia_wan_high.safetensors", "lora_name_low": "mia_wan_low.safetensors"}))
        assert (folder / "mia_wan_high.safetensors").read_bytes() == high
        assert (folder / "mia_wan_low.safetensors").read_bytes() == low
        for placed in folder.iterdir():  # removed from ComfyUI's folder while the job waited
            placed.unlink()
        made_clip(studio, job.id)
        assert (folder / "mia_wan_low.safetensors").read_bytes() == low  # put back when it ran
        loras = of_class(sent(server), "LoraLoaderModelOnly")
    assert [x["lora_name"] for x in loras] == ["mia_wan_high.safetensors", "mia_wan_low.safetensors"]


def test_a_lora_missing_for_both_experts_is_named_once(
        studio: Studio, fake: FakeComfyUI, pictures: tuple[Path, Path]) -> None:
    ws = studio.workspace()
    with pytest.raises(WorkflowInvalid) as raised:
        submit_video(studio, ws.id, VideoRequest(image=pictures[0], template=WAN[0], values={
            **SMALL, "lora_name": "mia_elsewhere.safetensors"}))
    assert len(raised.value.problems) == 2  # one per expert's loader, as ComfyUI would say
    assert str(raised.value).startswith("The LoRA 'mia_elsewhere.safetensors' is not in ComfyUI's "
                                        "loras folder; it has: ")
