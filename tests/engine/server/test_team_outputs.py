"""Team mode: a job's output files reach the shared bucket before the job counts as completed."""
from __future__ import annotations

import uuid
from pathlib import Path

import boto3

from studio.engine.core import Studio
from studio.engine.db.models import Asset
from studio.engine.db.repositories import Repository
from studio.engine.media.finishing import Finish
from studio.engine.media.jobs import ExportRequest, submit_export
from studio.engine.server.assets import team_store
from studio.engine.storage.local import LocalStore, sha256_file
from studio.engine.sync.sides import fetch_asset
from tests.conftest import run_next_task
from tests.engine.media.conftest import make_clip
from tests.engine.server.helpers import team_studio


def test_an_export_in_team_mode_uploads_its_video_and_cover(
        studio: Studio, tmp_path: Path, postgres_url: str, s3_server: str) -> None:
    from studio.engine.media.ffmpeg import find_ffmpeg
    bucket = f"team{uuid.uuid4().hex[:10]}"
    boto3.client("s3", endpoint_url=s3_server, aws_access_key_id="k", aws_secret_access_key="s",
                 region_name="us-east-1").create_bucket(Bucket=bucket)
    team = team_studio(studio, postgres_url, s3_server, bucket)
    try:
        ws = team.workspace("Agency", create=True)
        clip = make_clip(find_ffmpeg(team.settings).exe, tmp_path / "clip.mp4", seconds=1.0)
        job = submit_export(team, ws.id, ExportRequest(
            inputs=[clip], preset="instagram-reel", finish=Finish(speed="ultrafast"), cover_at_s=0.5))
        run_next_task(team, "video")
        assert team.jobs.get(ws.id, job.id).status == "completed"
        with team.db.session() as session:
            assets = Repository(session, ws.id).list(Asset, job_id=job.id)
        assert sorted(a.kind for a in assets) == ["cover", "video"]
        store = team_store(team.settings, team.paths, team.secrets)
        assert store is not None
        for asset in assets:
            local = team.asset_path(asset.storage_key)
            assert store.sha256(asset.storage_key) == sha256_file(local)
        # Another machine's studio fetches the video on demand, byte for byte.
        elsewhere = LocalStore(tmp_path / "other-machine")
        video = next(a for a in assets if a.kind == "video")
        fetched = fetch_asset(elsewhere, store, video.storage_key)
        assert fetched.read_bytes() == team.asset_path(video.storage_key).read_bytes()
    finally:
        team.close()


def test_a_job_whose_outputs_cannot_be_uploaded_fails_and_says_why(
        studio: Studio, tmp_path: Path, postgres_url: str, s3_server: str) -> None:
    from studio.engine.media.ffmpeg import find_ffmpeg
    bucket = f"team{uuid.uuid4().hex[:10]}"
    boto3.client("s3", endpoint_url=s3_server, aws_access_key_id="k", aws_secret_access_key="s",
                 region_name="us-east-1").create_bucket(Bucket=bucket)
    team = team_studio(studio, postgres_url, s3_server, bucket)
    try:
        ws = team.workspace("Agency", create=True)
        clip = make_clip(find_ffmpeg(team.settings).exe, tmp_path / "clip.mp4", seconds=1.0)
        job = submit_export(team, ws.id, ExportRequest(inputs=[clip], preset="instagram-reel",
                                                       finish=Finish(speed="ultrafast")))
        team.settings.server.s3_bucket = "bucket-nobody-made"  # lost after the input went up
        run_next_task(team, "video")
        failed = team.jobs.get(ws.id, job.id)
        assert failed.status == "failed"
        assert failed.error.startswith("The outputs could not be uploaded: S3 has no")
    finally:
        team.close()


def test_a_worker_on_another_machine_fetches_the_dataset_it_analyses_from_s3(
        studio: Studio, tmp_path: Path, postgres_url: str, redis_url: str, s3_server: str) -> None:
    from studio.engine.datasets.jobs import submit_analysis, submit_import
    from studio.engine.datasets.service import create_dataset
    from studio.engine.db.models import DatasetImage, Influencer
    from tests.engine.jobs.helpers import make_images
    bucket = f"team{uuid.uuid4().hex[:10]}"
    boto3.client("s3", endpoint_url=s3_server, aws_access_key_id="k", aws_secret_access_key="s",
                 region_name="us-east-1").create_bucket(Bucket=bucket)
    studio.settings.set("queue.backend", "redis")
    studio.settings.set("queue.redis_url", redis_url)
    desk = team_studio(studio, postgres_url, s3_server, bucket)
    box = Studio.open(tmp_path / "gpu-box")  # another machine: its own, empty asset folder
    box.settings.set("queue.backend", "redis")
    box.settings.set("queue.redis_url", redis_url)
    box = team_studio(box, postgres_url, s3_server, bucket)
    try:
        for huey in desk.queues.hueys.values():
            huey.flush()
        ws = desk.workspace("Agency", create=True)
        with desk.db.session() as session:
            mia = Repository(session, ws.id).add(Influencer(name="Mia"))
        dataset = create_dataset(desk, ws.id, mia.id, "faces")
        submit_import(desk, dataset, make_images(tmp_path / "in", 3, size=256))
        run_next_task(desk, "general")  # the import runs on the desk and uploads the images
        with desk.db.session() as session:
            keys = [i.storage_key for i in Repository(session, ws.id).list(DatasetImage)]
        assert len(keys) == 3
        assert not any((box.paths.assets_dir / key).exists() for key in keys)

        job = submit_analysis(desk, dataset)
        run_next_task(box, "general")  # ... the analysis on the other machine
        done = box.jobs.get(ws.id, job.id)
        assert done.status == "completed", done.error
        for key in keys:
            assert (box.paths.assets_dir / key).read_bytes() == desk.asset_path(key).read_bytes()
        with box.db.session() as session:
            assert all(i.analyzed_at is not None for i in Repository(session, ws.id).list(DatasetImage))
    finally:
        desk.close()
        box.close()
