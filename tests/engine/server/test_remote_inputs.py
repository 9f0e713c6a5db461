"""Team mode: a job whose payload names files by asset key runs on a worker on another machine,
which fetches those files from S3 first and reads them in its own asset folder."""
from __future__ import annotations

import uuid
from pathlib import Path

import boto3
import pytest

from studio.engine.core import Studio
from studio.engine.db.models import Asset
from studio.engine.db.repositories import Repository
from studio.engine.media.finishing import Finish
from studio.engine.media.jobs import ExportRequest, submit_export
from tests.conftest import run_next_task
from tests.engine.media.conftest import make_clip
from tests.engine.server.helpers import team_studio


def test_a_file_in_the_asset_folder_is_named_by_its_key(studio: Studio, tmp_path: Path) -> None:
    from studio.engine.media.ffmpeg import find_ffmpeg
    ws = studio.workspace("Solo", create=True)
    clip = make_clip(find_ffmpeg(studio.settings).exe, studio.asset_path("ws/clips/a.mp4"), seconds=0.5)
    job = submit_export(studio, ws.id, ExportRequest(inputs=[clip], preset="instagram-reel"))
    stored = studio.jobs.get(ws.id, job.id).payload
    assert stored["inputs"] == ["ws/clips/a.mp4"]  # no copy, no absolute path


def _bucket(s3_server: str) -> str:
    bucket = f"team{uuid.uuid4().hex[:10]}"
    boto3.client("s3", endpoint_url=s3_server, aws_access_key_id="k", aws_secret_access_key="s",
                 region_name="us-east-1").create_bucket(Bucket=bucket)
    return bucket


def _machines(studio: Studio, tmp_path: Path, postgres_url: str, redis_url: str,
              s3_server: str) -> tuple[Studio, Studio]:
    bucket = _bucket(s3_server)
    studio.settings.set("queue.backend", "redis")
    studio.settings.set("queue.redis_url", redis_url)
    desk = team_studio(studio, postgres_url, s3_server, bucket)
    box = Studio.open(tmp_path / "gpu-box")  # another machine: its own, empty asset folder
    box.settings.set("queue.backend", "redis")
    box.settings.set("queue.redis_url", redis_url)
    box = team_studio(box, postgres_url, s3_server, bucket)
    for huey in desk.queues.hueys.values():
        huey.flush()
    return desk, box


def test_a_worker_on_another_machine_exports_a_clip_from_the_desks_gallery(
        studio: Studio, tmp_path: Path, postgres_url: str, redis_url: str, s3_server: str) -> None:
    from studio.engine.media.ffmpeg import find_ffmpeg
    desk, box = _machines(studio, tmp_path, postgres_url, redis_url, s3_server)
    try:
        ws = desk.workspace("Agency", create=True)
        # A clip in the desk's asset folder that no job made (so nothing uploaded it yet).
        clip = make_clip(find_ffmpeg(desk.settings).exe, desk.asset_path("agency/clips/walk.mp4"),
                         seconds=1.0)
        job = submit_export(desk, ws.id, ExportRequest(
            inputs=[clip], preset="instagram-reel", finish=Finish(speed="ultrafast")))
        assert desk.jobs.get(ws.id, job.id).payload["inputs"] == ["agency/clips/walk.mp4"]
        assert not (box.paths.assets_dir / "agency/clips/walk.mp4").exists()
        data = clip.read_bytes()
        clip.unlink()  # the box shares this test's disk: it must not read the desk's file

        run_next_task(box, "video")
        done = box.jobs.get(ws.id, job.id)
        assert done.status == "completed", done.error
        assert (box.paths.assets_dir / "agency/clips/walk.mp4").read_bytes() == data
        with box.db.session() as session:
            video = Repository(session, ws.id).list(Asset, job_id=job.id, kind="video")[0]
        assert (box.paths.assets_dir / video.storage_key).stat().st_size > 0
    finally:
        desk.close()
        box.close()


def test_an_export_made_on_another_machine_reaches_the_folder_chosen_at_the_desk(
        studio: Studio, tmp_path: Path, postgres_url: str, redis_url: str, s3_server: str) -> None:
    from studio.engine.media.ffmpeg import find_ffmpeg
    from studio.engine.media.jobs import deliver_export
    desk, box = _machines(studio, tmp_path, postgres_url, redis_url, s3_server)
    try:
        ws = desk.workspace("Agency", create=True)
        clip = make_clip(find_ffmpeg(desk.settings).exe, desk.asset_path("agency/clips/run.mp4"),
                         seconds=1.0)
        folder = tmp_path / "desk" / "Videos"
        job = submit_export(desk, ws.id, ExportRequest(
            inputs=[clip], preset="tiktok", finish=Finish(speed="ultrafast"), export_to=folder))
        run_next_task(box, "video")
        done = desk.jobs.get(ws.id, job.id)
        assert done.status == "completed", done.error
        result = done.result or {}
        assert result["exported_to"] is None and result["deliver_to"] == str(folder / "run-tiktok.mp4")
        assert not folder.exists()  # the box did not write into the desk's folder
        desk.asset_path(result["output"]).unlink(missing_ok=True)  # the desk has only the bucket's copy
        delivered = deliver_export(desk, done)
        assert delivered == folder / "run-tiktok.mp4" and delivered.stat().st_size > 0
    finally:
        desk.close()
        box.close()


def test_an_input_the_server_lacks_fails_the_job_with_its_name(
        studio: Studio, tmp_path: Path, postgres_url: str, redis_url: str, s3_server: str) -> None:
    from studio.engine.media.ffmpeg import find_ffmpeg
    desk, box = _machines(studio, tmp_path, postgres_url, redis_url, s3_server)
    try:
        ws = desk.workspace("Agency", create=True)
        clip = make_clip(find_ffmpeg(desk.settings).exe, desk.asset_path("agency/clips/gone.mp4"),
                         seconds=0.5)
        job = submit_export(desk, ws.id, ExportRequest(inputs=[clip], preset="instagram-reel"))
        from studio.engine.server.assets import team_store
        store = team_store(desk.settings, desk.paths, desk.secrets)
        assert store is not None
        store.delete("agency/clips/gone.mp4")  # lost from the bucket after it was queued
        run_next_task(box, "video")
        failed = box.jobs.get(ws.id, job.id)
        assert failed.status == "failed"
        assert failed.error == ("The inputs could not be fetched: agency/clips/gone.mp4 is neither "
                                "on this machine nor on the server.")
    finally:
        desk.close()
        box.close()


def test_a_worker_on_another_machine_animates_a_picture_from_the_desks_gallery(
        studio: Studio, tmp_path: Path, postgres_url: str, redis_url: str, s3_server: str,
        monkeypatch: pytest.MonkeyPatch) -> None:
    from PIL import Image

    from studio.engine.media.ffmpeg import find_ffmpeg
    from studio.engine.media.i2v import VideoRequest, submit_video
    from tests.fakes.comfyui_server import FakeComfyUI
    monkeypatch.setattr("studio.engine.jobs.gpu.gpu_lock_path", lambda: tmp_path / "gpu.lock")
    desk, box = _machines(studio, tmp_path, postgres_url, redis_url, s3_server)
    clip = make_clip(find_ffmpeg(desk.settings).exe, tmp_path / "comfy/out.mp4", size="64x112",
                     seconds=1.0, audio=False)
    try:
        with FakeComfyUI(checkpoints=["svd_xt_1_1.safetensors"],
                         output_bytes={"mp4": clip.read_bytes()}) as comfy:
            desk.settings.comfyui.url = box.settings.comfyui.url = comfy.base_url
            ws = desk.workspace("Agency", create=True)
            portrait = desk.asset_path("images/agency/portrait.png")
            portrait.parent.mkdir(parents=True)
            Image.new("RGB", (96, 160), (200, 120, 150)).save(portrait)
            job = submit_video(desk, ws.id, VideoRequest(image=portrait, values={
                "frames": 14, "fps": 12, "motion": 180, "seed": 7}))
            data = portrait.read_bytes()
            portrait.unlink()  # the box shares this test's disk: it must not read the desk's file
            run_next_task(box, "video")
            done = box.jobs.get(ws.id, job.id)
            assert done.status == "completed", done.error
            here = box.paths.assets_dir / "images/agency/portrait.png"
            assert here.read_bytes() == data
            uploads = comfy.requests("POST", "/upload/image")
            assert len(uploads) == 1  # the picture reached ComfyUI from the worker's copy
            with box.db.session() as session:
                video = Repository(session, ws.id).list(Asset, job_id=job.id)[0]
            assert video.kind == "video" and (box.paths.assets_dir / video.storage_key).is_file()
    finally:
        desk.close()
        box.close()


def test_a_worker_on_another_machine_runs_img2img_on_a_gallery_picture(
        studio: Studio, tmp_path: Path, postgres_url: str, redis_url: str, s3_server: str,
        monkeypatch: pytest.MonkeyPatch) -> None:
    from PIL import Image

    from studio.engine.comfyui.generation import GenerationRequest, submit_generation
    from tests.fakes.comfyui_server import FakeComfyUI
    monkeypatch.setattr("studio.engine.jobs.gpu.gpu_lock_path", lambda: tmp_path / "gpu.lock")
    desk, box = _machines(studio, tmp_path, postgres_url, redis_url, s3_server)
    try:
        with FakeComfyUI() as comfy:
            desk.settings.comfyui.url = box.settings.comfyui.url = comfy.base_url
            ws = desk.workspace("Agency", create=True)
            picture = desk.asset_path("images/agency/beach.png")
            picture.parent.mkdir(parents=True)
            Image.new("RGB", (16, 16), (10, 200, 30)).save(picture)
            [job] = submit_generation(desk, ws.id, GenerationRequest(
                influencer_id=None, template="img2img-sd15-lora", count=1, values={
                    "checkpoint": "sd15.safetensors", "lora_name": "mia_v1.safetensors",
                    "positive": "mia on a beach", "steps": 4, "input_image": str(picture),
                    "denoise": 0.5}))
            assert job.payload["images"] == {"input_image": "images/agency/beach.png"}
            data = picture.read_bytes()
            picture.unlink()  # the box shares this test's disk: it must not read the desk's file
            run_next_task(box, "generation")
            done = box.jobs.get(ws.id, job.id)
            assert done.status == "completed", done.error
            assert (box.paths.assets_dir / "images/agency/beach.png").read_bytes() == data
            assert len(comfy.requests("POST", "/upload/image")) == 1
            with box.db.session() as session:
                [made] = Repository(session, ws.id).list(Asset, job_id=job.id)
            # The recipe names the picture by key, so Regenerate works on either machine.
            assert made.meta["recipe"]["values"]["input_image"] == "images/agency/beach.png"
    finally:
        desk.close()
        box.close()
