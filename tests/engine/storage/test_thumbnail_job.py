"""The make-thumbnails job, run through the real runner, on paths and on asset-store keys."""
from __future__ import annotations

from pathlib import Path

from PIL import Image

from studio.engine.core import Studio
from studio.engine.storage.local import LocalStore
from tests.conftest import run_next_task


def _run_next(studio: Studio) -> None:
    run_next_task(studio, "general")


def test_keys_resolve_in_the_asset_store_and_bad_files_are_reported(studio: Studio, tmp_path: Path) -> None:
    source = tmp_path / "face.png"
    Image.new("RGB", (500, 300), "green").save(source)
    stored = LocalStore(studio.paths.assets_dir).put_file(source, "avatars/ws/inf/face.png")
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8\xff garbage")
    ws = studio.workspace()
    job = studio.jobs.submit(ws.id, "make-thumbnails", {"keys": [stored.key], "files": [str(broken)]})
    _run_next(studio)
    done = studio.jobs.get(ws.id, job.id)
    assert done.status == "completed"
    assert list(done.result["thumbnails"]) == [stored.key]
    assert "damaged" in done.result["refused"][str(broken)] or "not an image" in done.result["refused"][str(broken)]


def test_a_key_escaping_the_store_fails_the_job(studio: Studio) -> None:
    ws = studio.workspace()
    job = studio.jobs.submit(ws.id, "make-thumbnails", {"keys": ["../../etc/passwd"]})
    _run_next(studio)
    failed = studio.jobs.get(ws.id, job.id)
    assert failed.status == "failed" and "not a valid storage key" in failed.error


def test_all_files_refused_fails_with_the_first_reason(studio: Studio, tmp_path: Path) -> None:
    ws = studio.workspace()
    job = studio.jobs.submit(ws.id, "make-thumbnails", {"files": [str(tmp_path / "gone.png")]})
    _run_next(studio)
    failed = studio.jobs.get(ws.id, job.id)
    assert failed.status == "failed"
    assert failed.error == f"No thumbnail could be made: 1 file(s) refused, first: {tmp_path / 'gone.png'}: file not found."
