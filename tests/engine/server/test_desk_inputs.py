"""Team mode: files that live on a desk outside the studio (a clip to export, a folder to
import) reach a worker on another machine through the bucket, uploaded once by content; a
payload that would carry a desk path is refused; solo mode reads them where they are."""
from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from studio.engine.core import Studio
from studio.engine.datasets.jobs import submit_import
from studio.engine.datasets.service import create_dataset, list_images
from studio.engine.db.models import Asset, Dataset, Job
from studio.engine.db.repositories import Repository
from studio.engine.errors import InvalidInput, StudioError
from studio.engine.influencers import Persona, create_influencer
from studio.engine.jobs.inputs import reporting_uploads
from studio.engine.jobs.status import FINISHED, JobStatus
from studio.engine.media.finishing import Finish
from studio.engine.media.jobs import ExportRequest, submit_export
from studio.engine.media.thumbnails import ThumbnailPayload
from tests.conftest import WorkerProcess, wait_until
from tests.engine.datasets.corpus import noise, save
from tests.engine.media.conftest import make_clip
from tests.engine.server.helpers import team_studio


def _team(studio: Studio, tmp_path: Path, postgres_url: str, redis_url: str,
          s3_server: str) -> tuple[Studio, Path, str]:
    """The desk, the data folder of a GPU box (another machine: its own asset folder), the bucket."""
    bucket = f"team{uuid.uuid4().hex[:10]}"
    boto3.client("s3", endpoint_url=s3_server, aws_access_key_id="k", aws_secret_access_key="s",
                 region_name="us-east-1").create_bucket(Bucket=bucket)
    for machine in (studio, Studio.open(tmp_path / "gpu-box")):
        machine.settings.set("queue.backend", "redis")
        machine.settings.set("queue.redis_url", redis_url)
        team_studio(machine, postgres_url, s3_server, bucket).close()
    desk = Studio.open(studio.paths.data_dir)
    for huey in desk.queues.hueys.values():
        huey.flush()
    return desk, tmp_path / "gpu-box", bucket


@pytest.fixture
def puts(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The keys the desk's bucket client writes (a PutObject or the start of a multipart upload)."""
    import studio.engine.server.assets as assets
    written: list[str] = []
    real = assets.team_store

    def counting(*args: Any) -> Any:
        store = real(*args)
        if store is not None:
            for call in ("PutObject", "CreateMultipartUpload"):
                store.client.meta.events.register(
                    f"before-call.s3.{call}", lambda params, **_: written.append(params["url_path"]))
        return store
    monkeypatch.setattr(assets, "team_store", counting)
    return written


def _finished(desk: Studio, workspace_id: uuid.UUID, job: Job) -> Job:
    wait_until(lambda: desk.jobs.get(workspace_id, job.id).status in FINISHED, timeout=120,
               what=f"the {job.type} job")
    return desk.jobs.get(workspace_id, job.id)


def _dataset(desk: Studio, workspace_id: uuid.UUID) -> Dataset:
    influencer = create_influencer(desk, workspace_id, Persona(name="Mia", trigger_word="mia"))
    return create_dataset(desk, workspace_id, influencer.id, "Shoot")


def _desk_folder(root: Path) -> Path:
    folder = root / "Desktop" / "shoot"
    save(folder / "a.jpg", noise((120, 90), seed=1), quality=90)
    (folder / "a.txt").write_text("mia, beach", encoding="utf-8")
    save(folder / "more" / "b.png", noise((64, 64), seed=2))
    (folder / "notes.docx").write_bytes(b"not imported")
    return folder


@pytest.fixture
def team(studio: Studio, tmp_path: Path, postgres_url: str, redis_url: str,
         s3_server: str) -> Iterator[tuple[Studio, Path]]:
    desk, box, _ = _team(studio, tmp_path, postgres_url, redis_url, s3_server)
    try:
        yield desk, box
    finally:
        desk.close()


def test_a_worker_elsewhere_exports_a_clip_from_the_desks_desktop(
        team: tuple[Studio, Path], tmp_path: Path, puts: list[str]) -> None:
    from studio.engine.media.ffmpeg import find_ffmpeg
    desk, box = team
    ws = desk.workspace("Agency", create=True)
    clip = make_clip(find_ffmpeg(desk.settings).exe, tmp_path / "Desktop" / "walk.mp4", seconds=1.0)
    seen: list[tuple[str, float]] = []
    with reporting_uploads(lambda message, fraction: seen.append((message, fraction))):
        job = submit_export(desk, ws.id, ExportRequest(
            inputs=[clip], preset="instagram-reel", finish=Finish(speed="ultrafast")))
    [key] = desk.jobs.get(ws.id, job.id).payload["inputs"]
    assert key.startswith(f"inputs/{ws.id}/") and key.endswith("/walk.mp4")
    assert seen[-1] == ("Uploading walk.mp4 to the server", 1.0) and len(puts) == 1
    worker = WorkerProcess(box)
    try:
        done = _finished(desk, ws.id, job)
    finally:
        worker.stop()
    assert done.status == JobStatus.COMPLETED, done.error
    assert (box / "assets" / key).read_bytes() == clip.read_bytes()  # the box's own copy
    with desk.db.session() as session:
        [video] = Repository(session, ws.id).list(Asset, job_id=job.id, kind="video")
    assert (box / "assets" / video.storage_key).stat().st_size > 0


def test_a_worker_elsewhere_imports_a_folder_from_the_desk_and_it_is_sent_once(
        team: tuple[Studio, Path], tmp_path: Path, puts: list[str]) -> None:
    desk, box = team
    ws = desk.workspace("Agency", create=True)
    dataset = _dataset(desk, ws.id)
    folder = _desk_folder(tmp_path)
    first = submit_import(desk, dataset, [folder])
    assert first.payload["paths"] == [] and len(first.payload["files"]) == 3
    assert all(f["key"].startswith(f"inputs/{ws.id}/") for f in first.payload["files"])
    assert len(puts) == 3  # a.jpg, a.txt, more/b.png; the .docx stays on the desk
    worker = WorkerProcess(box)
    try:
        done = _finished(desk, ws.id, first)
        second = submit_import(desk, dataset, [folder])
        assert second.payload["files"] == first.payload["files"] and len(puts) == 3  # not again
        again = _finished(desk, ws.id, second)
    finally:
        worker.stop()
    assert done.status == JobStatus.COMPLETED, done.error
    result = done.result or {}
    assert (result["imported"], result["refused"]) == (2, 1)
    refused = [row for row in result["rows"] if row["status"] == "refused"]
    assert refused[0]["source"] == str(folder / "notes.docx")
    assert {row["source"] for row in result["rows"]} >= {str(folder / "a.jpg"), str(folder / "more/b.png")}
    assert (again.result or {})["duplicates"] == 2
    images = {image.source_name: image for image in list_images(desk, dataset)}
    assert set(images) == {"a.jpg", "more/b.png"} and images["a.jpg"].caption == "mia, beach"
    assert not (box / "cache" / "imports").exists() or not any((box / "cache" / "imports").iterdir())


def test_a_payload_naming_a_desk_path_is_refused_and_nothing_is_queued(
        team: tuple[Studio, Path], tmp_path: Path) -> None:
    desk, _ = team
    ws = desk.workspace("Agency", create=True)
    picture = save(tmp_path / "Desktop" / "p.png", noise((32, 32), seed=3))
    with pytest.raises(InvalidInput, match=r"p.png is a file on this machine, which a worker on "
                                           r"another machine cannot read \(files\[0\]\)"):
        desk.jobs.submit(ws.id, "make-thumbnails", ThumbnailPayload(files=(picture,)))
    assert list(desk.jobs.list(ws.id)) == []


def test_a_failed_upload_leaves_no_job(studio: Studio, tmp_path: Path, postgres_url: str,
                                       redis_url: str, s3_server: str) -> None:
    desk, _, bucket = _team(studio, tmp_path, postgres_url, redis_url, s3_server)
    try:
        ws = desk.workspace("Agency", create=True)
        dataset = _dataset(desk, ws.id)
        boto3.client("s3", endpoint_url=s3_server, aws_access_key_id="k", aws_secret_access_key="s",
                     region_name="us-east-1").delete_bucket(Bucket=bucket)
        with pytest.raises(StudioError):
            submit_import(desk, dataset, [_desk_folder(tmp_path)])
        assert list(desk.jobs.list(ws.id)) == []
    finally:
        desk.close()


def test_solo_mode_imports_from_where_the_files_are(studio: Studio, tmp_path: Path) -> None:
    ws = studio.workspace("Solo", create=True)
    folder = _desk_folder(tmp_path)
    job = submit_import(studio, _dataset(studio, ws.id), [folder])
    assert job.payload["paths"] == [str(folder)] and job.payload["files"] == []
    assert not (studio.paths.assets_dir / "inputs").exists()  # nothing copied, nothing sent
