"""The make-thumbnails job, run through the real runner, on paths and on asset-store keys."""
from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from studio.engine.core import Studio
from studio.engine.db.models import Job
from studio.engine.errors import InvalidInput
from studio.engine.jobs.payloads import AssetKey
from studio.engine.media.thumbnails import ThumbnailPayload
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
    job = studio.jobs.submit(ws.id, "make-thumbnails",
                             ThumbnailPayload(keys=(AssetKey(stored.key),), files=(broken,)))
    _run_next(studio)
    done = studio.jobs.get(ws.id, job.id)
    assert done.status == "completed"
    assert list(done.result["thumbnails"]) == [stored.key]
    assert "damaged" in done.result["refused"][str(broken)] or "not an image" in done.result["refused"][str(broken)]


def test_a_key_escaping_the_store_is_refused_and_fails_a_stored_job(studio: Studio) -> None:
    with pytest.raises(InvalidInput, match="not a valid storage key"):
        AssetKey("../../etc/passwd")
    ws = studio.workspace()
    job = studio.jobs.submit(ws.id, "make-thumbnails", ThumbnailPayload())
    with studio.db.session() as session:  # a row written by hand, past the payload class
        session.get(Job, job.id).payload = {"keys": ["../../etc/passwd"], "version": 1}
    _run_next(studio)
    failed = studio.jobs.get(ws.id, job.id)
    assert failed.status == "failed"
    assert failed.error == ("The job's payload does not match ThumbnailPayload: '../../etc/passwd' "
                            "is not a valid storage key at keys[0].")


def test_all_files_refused_fails_with_the_first_reason(studio: Studio, tmp_path: Path) -> None:
    ws = studio.workspace()
    job = studio.jobs.submit(ws.id, "make-thumbnails",
                             ThumbnailPayload(files=(tmp_path / "gone.png",)))
    _run_next(studio)
    failed = studio.jobs.get(ws.id, job.id)
    assert failed.status == "failed"
    assert failed.error == ("No thumbnail could be made: 1 file(s) refused, "
                            f"first: {tmp_path / 'gone.png'}: file not found.")
