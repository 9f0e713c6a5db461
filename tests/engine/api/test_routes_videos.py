"""/videos over the real app (TestClient) with real FFmpeg: the export presets, a clip of the
studio exported for a platform through the API and run as a worker runs it, the finished video
listed and downloaded; refusals, validation and workspace walls."""
from __future__ import annotations

import uuid
from pathlib import Path

import av
import pytest
from fastapi.testclient import TestClient

from studio.engine.core import Studio
from studio.engine.db.models import Asset
from studio.engine.db.repositories import Repository
from studio.engine.influencers import Persona, create_influencer
from studio.engine.jobs.status import JobStatus
from studio.engine.storage.local import LocalStore
from tests.conftest import run_next_task
from tests.engine.api.conftest import Tokens, bearer
from tests.engine.media.conftest import make_clip


@pytest.fixture
def clip_id(studio: Studio, ffmpeg: str, tmp_path: Path) -> str:
    """A 2 s clip with sound in the studio's asset store, as a generated clip is."""
    clip = make_clip(ffmpeg, tmp_path / "made" / "walk.mp4", size="320x240", seconds=2.0)
    workspace_id = studio.workspace().id
    stored = LocalStore(studio.paths.assets_dir).put_file(clip, f"videos/{workspace_id}/made/walk.mp4")
    with studio.db.session() as session:
        asset = Repository(session, workspace_id).add(Asset(kind="video", storage_key=stored.key,
                                                            sha256=stored.sha256, size_bytes=stored.size_bytes,
                                                            meta={"duration_s": 2.0}))
        return str(asset.id)


def test_presets_are_listed_with_their_frames(client: TestClient) -> None:
    presets = {p["name"]: p for p in client.get("/videos/presets").json()}
    assert {"tiktok", "instagram-reel", "youtube-shorts", "instagram-feed-4x5"} <= set(presets)
    assert (presets["tiktok"]["width"], presets["tiktok"]["height"], presets["tiktok"]["aspect"]) == (
        1080, 1920, "9:16")
    assert presets["youtube-shorts"]["max_s"] is not None


def test_a_clip_is_exported_through_the_api_and_downloaded(client: TestClient, studio: Studio, clip_id: str,
                                                           tmp_path: Path) -> None:
    answer = client.post("/videos/exports", json={
        "inputs": [clip_id], "preset": "tiktok", "draft": True, "cover_at_s": 1.0, "name": "walk for tiktok",
        "subtitles_srt": "1\n00:00:00,000 --> 00:00:01,500\nHello there\n"})
    assert answer.status_code == 202, answer.text
    job = answer.json()
    assert (job["type"], job["queue"], job["status"]) == ("export-video", "video", JobStatus.PENDING)
    assert job["payload"]["name"] == "walk for tiktok.mp4"
    run_next_task(studio, "video")
    done = studio.jobs.get(studio.workspace().id, job["id"])
    assert done.status == JobStatus.COMPLETED, done.error
    [video] = client.get("/videos", params={"job_id": job["id"]}).json()
    assert (video["name"], video["preset"], video["width"], video["height"]) == (
        "walk for tiktok.mp4", "tiktok", 1080, 1920)
    assert video["duration_s"] == pytest.approx(3.0, abs=0.1)  # the 2 s clip held to TikTok's shortest
    assert client.get(f"/videos/{video['id']}").json() == video
    assert {v["id"] for v in client.get("/videos").json()} == {video["id"], clip_id}
    download = client.get(video["file_url"])
    assert download.status_code == 200 and download.headers["content-type"] == "video/mp4"
    assert download.headers["content-disposition"] == "attachment; filename*=utf-8''walk%20for%20tiktok.mp4"
    saved = tmp_path / "downloaded.mp4"
    saved.write_bytes(download.content)
    with av.open(str(saved)) as container:
        stream = container.streams.video[0]
        assert (stream.width, stream.height) == (1080, 1920)
    for text in (answer.text, client.get("/videos").text):
        assert str(studio.paths.data_dir) not in text and str(tmp_path) not in text


def test_refusals_are_422_with_the_reason_or_the_field_names(client: TestClient, studio: Studio,
                                                             clip_id: str) -> None:
    unknown = client.post("/videos/exports", json={"inputs": [clip_id], "preset": "vine"})
    assert unknown.status_code == 422 and "no export preset 'vine'" in unknown.json()["detail"]
    late = client.post("/videos/exports", json={"inputs": [clip_id], "preset": "tiktok", "cover_at_s": 30})
    assert late.status_code == 422 and late.json()["detail"].startswith("The cover time 30 s is past the end")
    srt = client.post("/videos/exports", json={"inputs": [clip_id], "preset": "tiktok", "subtitles_srt": "nonsense"})
    assert srt.status_code == 422 and "not a valid .srt" in srt.json()["detail"]
    fields = client.post("/videos/exports", json={"inputs": [], "preset": "tiktok", "fit": "stretch",
                                               "focus": [0.5], "loudness": "loud"})
    assert fields.status_code == 422
    assert {e["loc"][1] for e in fields.json()["detail"]} >= {"inputs", "fit", "focus", "loudness"}
    assert studio.jobs.list(studio.workspace().id) == []


def test_another_workspace_gets_404_for_the_clips_and_their_files(client: TestClient, studio: Studio,
                                                                  clip_id: str, tokens: Tokens) -> None:
    theirs = bearer(tokens.other)
    assert client.get("/videos", headers=theirs).json() == []
    mia = create_influencer(studio, tokens.workspace_id, Persona(name="Mia", trigger_word="mia"))
    assert client.get("/videos", params={"influencer_id": str(mia.id)}, headers=theirs).status_code == 404
    mine = {"inputs": [clip_id], "preset": "tiktok", "influencer_id": str(mia.id)}
    assert client.post("/videos/exports", json=mine, headers=theirs).status_code == 404
    for path in (f"/videos/{clip_id}", f"/videos/{clip_id}/file"):
        assert client.get(path, headers=theirs).status_code == 404
    refused = client.post("/videos/exports", headers=theirs, json={"inputs": [clip_id], "preset": "tiktok"})
    assert refused.status_code == 404
    assert client.get(f"/videos/{uuid.uuid4()}/file").status_code == 404
    assert client.get(f"/videos/{clip_id}/file").status_code == 200


def test_the_openapi_document_describes_the_video_routes(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    export = document["paths"]["/videos/exports"]["post"]
    assert export["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("/ExportIn")
    assert {"202", "404", "422"} <= set(export["responses"])
    assert {"inputs", "preset", "fit", "focus", "subtitles_srt", "cover_at_s"} <= set(
        document["components"]["schemas"]["ExportIn"]["properties"])
    assert {"/videos", "/videos/presets", "/videos/{asset_id}/file"} <= set(document["paths"])
