"""generate-video jobs against the fake ComfyUI, with real files coming back and real FFmpeg."""
from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from studio.engine.core import Studio
from studio.engine.db.models import Asset
from studio.engine.db.repositories import Repository
from studio.engine.errors import InvalidInput
from studio.engine.jobs.gpu import current_holders, hold_gpu
from studio.engine.media.i2v import VideoRequest, submit_video, video_templates
from studio.engine.media.probe import probe
from tests.conftest import run_next_task, wait_until
from tests.engine.jobs.helpers import job_context
from tests.engine.media.conftest import make_clip
from tests.fakes.comfyui_nodes import VIDEO_PACKS
from tests.fakes.comfyui_server import FakeComfyUI

AD_MODELS = {"checkpoint": "sd15.safetensors", "lora_name": "mia_v1.safetensors"}


@pytest.fixture
def fake(studio: Studio, ffmpeg: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[FakeComfyUI]:
    clip = make_clip(ffmpeg, tmp_path_factory.mktemp("comfy") / "out.mp4", size="64x112",
                     seconds=1.0, audio=False)
    with FakeComfyUI(checkpoints=["sd15.safetensors", "svd_xt_1_1.safetensors"], custom_packs=VIDEO_PACKS,
                     output_bytes={"mp4": clip.read_bytes()}) as server:
        studio.settings.comfyui.url = server.base_url
        yield server


@pytest.fixture
def portrait(tmp_path: Path) -> Path:
    path = tmp_path / "gallery image é.png"
    Image.new("RGB", (96, 160), (200, 120, 150)).save(path)
    return path


def video_asset(studio: Studio, workspace_id, job_id) -> Asset:  # type: ignore[no-untyped-def]
    with studio.db.session() as session:
        (asset,) = Repository(session, workspace_id).list(Asset, job_id=job_id)
        return asset


def test_the_video_templates_load() -> None:
    templates = video_templates()
    older = ("i2v-svd", "i2v-animatediff-sd15", "i2v-animatediff-sd15-frames")
    assert set(older) <= set(templates)  # the Wan 2.2 ones: test_i2v_wan.py
    for template in (templates[name] for name in older):
        assert template.kind == "img2video"
        assert {"input_image", "seed", "frames", "motion"} <= set(template.parameters)
    assert "fps" in templates["i2v-svd"].parameters


def test_svd_makes_a_clip_from_a_gallery_image(studio: Studio, fake: FakeComfyUI, portrait: Path) -> None:
    ws = studio.workspace()
    job = submit_video(studio, ws.id, VideoRequest(image=portrait, values={
        "frames": 14, "fps": 12, "motion": 180, "seed": 7}))
    assert job.queue == "video"
    run_next_task(studio, "video")
    done = studio.jobs.get(ws.id, job.id)
    assert done.status == "completed", done.error
    graph = fake.requests("POST", "/prompt")[0].body["prompt"]
    assert graph["3"]["inputs"]["video_frames"] == 14 and graph["3"]["inputs"]["motion_bucket_id"] == 180
    assert graph["3"]["inputs"]["fps"] == 12 and graph["7"]["inputs"]["fps"] == 12
    assert graph["5"]["inputs"]["seed"] == 7
    assert len(fake.requests("POST", "/upload/image")) == 1
    assert graph["2"]["inputs"]["image"].startswith("studio-") and graph["2"]["inputs"]["image"].endswith(".png")
    asset = video_asset(studio, ws.id, job.id)
    assert asset.kind == "video" and asset.storage_key.startswith(f"videos/{ws.id}/{job.id}/")
    assert asset.storage_key.endswith(".mp4") and asset.meta["probe"]["video"]["codec"] == "h264"
    assert asset.meta["recipe"]["template"] == "i2v-svd"
    assert asset.meta["source_image"] == job.payload["images"]["input_image"]
    assert probe(studio.asset_path(asset.storage_key)).duration_s == pytest.approx(1.0, abs=0.1)


def test_animatediff_through_videohelpersuite(studio: Studio, fake: FakeComfyUI, portrait: Path) -> None:
    ws = studio.workspace()
    job = submit_video(studio, ws.id, VideoRequest(
        image=portrait, template="i2v-animatediff-sd15",
        values={**AD_MODELS, "positive": "mia, hair in the wind", "frames": 16, "motion": 1.2}))
    run_next_task(studio, "video")
    assert studio.jobs.get(ws.id, job.id).status == "completed"
    graph = fake.requests("POST", "/prompt")[0].body["prompt"]
    assert graph["20"]["inputs"]["motion_scale"] == 1.2 and graph["14"]["inputs"]["amount"] == 16
    asset = video_asset(studio, ws.id, job.id)
    assert asset.meta["probe"]["video"]["codec"] == "h264" and asset.meta["frames_joined"] == 0


def test_an_image_sequence_is_joined_into_a_clip(studio: Studio, fake: FakeComfyUI, portrait: Path) -> None:
    ws = studio.workspace()
    job = submit_video(studio, ws.id, VideoRequest(
        image=portrait, template="i2v-animatediff-sd15-frames",
        values={**AD_MODELS, "frames": 6, "fps": 12}))
    run_next_task(studio, "video")
    done = studio.jobs.get(ws.id, job.id)
    assert done.status == "completed", done.error
    asset = video_asset(studio, ws.id, job.id)
    assert asset.meta["frames_joined"] == 6
    info = probe(studio.asset_path(asset.storage_key))
    assert info.video is not None and info.video.frames == 6 and info.video.fps == 12
    assert info.duration_s == pytest.approx(0.5, abs=0.05)
    # The rate is in no node of the graph, so the recipe keeps it: made again, it joins at 12.
    recipe = asset.meta["recipe"]
    assert recipe["values"]["fps"] == 12
    again = submit_video(studio, ws.id, VideoRequest(image=Path(asset.meta["source_image"]),
                                                     template=recipe["template"], values=recipe["values"]))
    assert again.payload["fps"] == 12 and "fps" not in again.payload["values"]


def test_missing_packs_and_bad_images_are_named_before_queueing(studio: Studio, portrait: Path,
                                                                tmp_path: Path) -> None:
    ws = studio.workspace()
    with FakeComfyUI() as bare:  # no AnimateDiff, no VideoHelperSuite
        studio.settings.comfyui.url = bare.base_url
        with pytest.raises(InvalidInput, match="needs the custom node pack ComfyUI-AnimateDiff-Evolved "
                                               r"\(node ADE_AnimateDiffLoaderWithContext is not "
                                               r"installed\)\. \(2\) .* ComfyUI-VideoHelperSuite "
                                               r"\(node VHS_VideoCombine is not installed\)\.$"):
            submit_video(studio, ws.id, VideoRequest(image=portrait, template="i2v-animatediff-sd15",
                                                     values=AD_MODELS))
        text = tmp_path / "notes.png"
        text.write_text("not a picture")
        with pytest.raises(InvalidInput, match="notes.png is not an image"):
            submit_video(studio, ws.id, VideoRequest(image=text))
        with pytest.raises(InvalidInput, match="no video template 'sora'"):
            submit_video(studio, ws.id, VideoRequest(image=portrait, template="sora"))
    assert studio.jobs.list(ws.id) == []


def test_a_video_job_waits_for_a_training_then_shares_the_gpu_with_images(
        studio: Studio, fake: FakeComfyUI, portrait: Path) -> None:
    ws = studio.workspace()
    job = submit_video(studio, ws.id, VideoRequest(image=portrait, values={"frames": 14, "seed": 7}))
    with hold_gpu(job_context(studio, "train-lora", "mia-v3")):
        runner = threading.Thread(target=run_next_task, args=(studio, "video"))
        runner.start()
        wait_until(lambda: studio.jobs.get(ws.id, job.id).message
                   == "Waiting for the GPU: training 'mia-v3' holds it", timeout=10,
                   what="the video job to name the training")
        assert fake.requests("POST", "/prompt") == []
    # An image job of this process holding the GPU does not hold the video back.
    with hold_gpu(job_context(studio, "generate-image", "Mia on a beach"), shared=True):
        runner.join(timeout=30)
        assert studio.jobs.get(ws.id, job.id).status == "completed"
        assert [h.title for h in current_holders()] == ["Mia on a beach"]
