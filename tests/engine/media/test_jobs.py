"""export-video jobs through the real runner: assets, metadata, the user's copy, cancel."""
from __future__ import annotations

import threading
from pathlib import Path

import pytest

from studio.engine.core import Studio
from studio.engine.db.models import Asset
from studio.engine.db.repositories import Repository
from studio.engine.errors import InvalidInput
from studio.engine.jobs.payloads import result_of
from studio.engine.media.finishing import Finish
from studio.engine.media.jobs import ExportOutcome, ExportRequest, output_name, submit_export
from studio.engine.media.subtitles import Cue
from tests.conftest import run_next_task, wait_until
from tests.engine.media.conftest import ODD, make_clip


def assets_of(studio: Studio, workspace_id, job_id) -> list[Asset]:  # type: ignore[no-untyped-def]
    with studio.db.session() as session:
        return sorted(Repository(session, workspace_id).list(Asset, job_id=job_id), key=lambda a: a.kind)


def test_an_export_job_stores_the_video_and_copies_it_out(studio: Studio, clips: dict[str, Path],
                                                          tmp_path: Path) -> None:
    ws = studio.workspace()
    folder = tmp_path / ODD
    job = submit_export(studio, ws.id, ExportRequest(
        inputs=[clips["sound"]], preset="instagram-reel", finish=Finish(speed="veryfast"),
        export_to=folder, cues=[Cue(0.0, 1.5, "Hello"), Cue(1.5, 2.0, "again")], cover_at_s=1.0))
    assert job.queue == "video" and job.payload["name"] == "sound-instagram-reel.mp4"
    run_next_task(studio, "video")
    done = studio.jobs.get(ws.id, job.id)
    assert done.status == "completed", done.error
    cover, video = assets_of(studio, ws.id, job.id)
    assert video.kind == "video" and cover.kind == "cover"
    assert video.storage_key == f"videos/{ws.id}/{job.id}/sound-instagram-reel.mp4"
    probe = video.meta["probe"]
    assert probe["video"]["width"] == 1080 and probe["video"]["height"] == 1920
    assert probe["faststart"] is True and probe["audio"]["sample_rate"] == 48000
    assert video.meta["preset"] == "instagram-reel" and video.meta["loudness"]["output_i"]
    stored = studio.asset_path(video.storage_key)
    exported = folder / "sound-instagram-reel.mp4"
    assert done.result["exported_to"] == str(exported) and exported.read_bytes() == stored.read_bytes()
    assert video.size_bytes == stored.stat().st_size and len(video.sha256) == 64
    srt = stored.parent / "subtitles.srt"
    assert "00:00:01,500 --> 00:00:02,000\nagain" in srt.read_text()
    assert studio.asset_path(cover.storage_key).is_file()


def test_outside_files_are_copied_into_the_store_so_the_job_works_after_they_are_gone(
        studio: Studio, ffmpeg: str, tmp_path: Path) -> None:
    ws = studio.workspace()
    desk = tmp_path / "Desktop"
    clip = make_clip(ffmpeg, desk / "walk.mp4", seconds=1.0)
    subtitles = desk / "walk.srt"
    subtitles.write_text("1\n00:00:00,000 --> 00:00:00,800\nHi\n", encoding="utf-8")
    job = submit_export(studio, ws.id, ExportRequest(
        inputs=[clip], preset="tiktok", finish=Finish(speed="ultrafast", subtitles=subtitles)))
    [key] = job.payload["inputs"]
    assert key.startswith(f"inputs/{ws.id}/") and key.endswith("/walk.mp4")
    assert job.payload["subtitles"].endswith("/walk.srt") and job.payload["finish"]["subtitles"] is None
    assert studio.asset_path(key).read_bytes() == clip.read_bytes()
    clip.unlink()
    subtitles.unlink()
    run_next_task(studio, "video")
    done = studio.jobs.get(ws.id, job.id)
    assert done.status == "completed", done.error
    result = result_of(done, ExportOutcome)
    assert result is not None and result.output == f"videos/{ws.id}/{job.id}/walk-tiktok.mp4"
    assert studio.asset_path(result.output).stat().st_size > 0 and result.exported_to is None


def test_submit_refuses_what_cannot_work(studio: Studio, clips: dict[str, Path], tmp_path: Path) -> None:
    ws = studio.workspace()
    with pytest.raises(InvalidInput, match="no export preset"):
        submit_export(studio, ws.id, ExportRequest(inputs=[clips["sound"]], preset="myspace"))
    with pytest.raises(InvalidInput, match="tone.wav has no picture"):
        submit_export(studio, ws.id, ExportRequest(inputs=[clips["tone"]], preset="tiktok"))
    with pytest.raises(InvalidInput, match="not both"):
        submit_export(studio, ws.id, ExportRequest(
            inputs=[clips["sound"]], preset="tiktok", cues=[Cue(0, 1, "x")],
            finish=Finish(subtitles=tmp_path / "a.srt")))
    with pytest.raises(InvalidInput, match="no sound to use"):
        submit_export(studio, ws.id, ExportRequest(inputs=[clips["still"]], preset="tiktok",
                                                   finish=Finish(soundtrack=clips["silent"])))
    assert studio.jobs.list(ws.id) == []
    assert output_name("../../etc/passwd") == "passwd.mp4"
    assert output_name("clip: 'é'.mov") == "clip_ 'é'.mov"


def test_canceling_a_running_export_leaves_no_file(studio: Studio, ffmpeg: str, tmp_path: Path) -> None:
    ws = studio.workspace()
    source = make_clip(ffmpeg, tmp_path / "long.mp4", seconds=30, size="640x360")
    job = submit_export(studio, ws.id, ExportRequest(inputs=[source], preset="youtube-16x9",
                                                     finish=Finish(loudness=None),
                                                     export_to=tmp_path / "out"))
    runner = threading.Thread(target=run_next_task, args=(studio, "video"))
    runner.start()
    wait_until(lambda: studio.jobs.get(ws.id, job.id).progress > 0.01, what="encoding to start")
    studio.jobs.cancel(ws.id, job.id)
    runner.join(20)
    assert not runner.is_alive()
    assert studio.jobs.get(ws.id, job.id).status == "canceled"
    job_folder = studio.paths.assets_dir / "videos" / str(ws.id) / str(job.id)
    assert not job_folder.exists() or list(job_folder.iterdir()) == []
    assert not (tmp_path / "out").exists() and assets_of(studio, ws.id, job.id) == []
