"""A real worker process consumes real jobs from the real SQLite queue."""
from __future__ import annotations

from pathlib import Path

from PIL import Image

from studio.engine.core import Studio
from tests.conftest import wait_until


def _images(folder: Path, count: int, size: int = 640) -> list[str]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(count):
        path = folder / f"img_{i}.jpg"
        Image.new("RGB", (size, size), (i * 7 % 255, 90, 160)).save(path, quality=90)
        paths.append(str(path))
    return paths


def _status(studio: Studio, ws_id, job_id) -> str:  # type: ignore[no-untyped-def]
    return studio.jobs.get(ws_id, job_id).status


def test_worker_runs_thumbnail_job_to_completion(studio: Studio, worker, tmp_path: Path) -> None:
    ws = studio.workspace()
    files = _images(tmp_path / "in", 3)
    job = studio.jobs.submit(ws.id, "make-thumbnails", {"files": files})
    wait_until(lambda: _status(studio, ws.id, job.id) == "completed", what="job completion")
    done = studio.jobs.get(ws.id, job.id)
    assert done.progress == 1.0 and done.attempts == 1
    thumbs = done.result["thumbnails"][files[0]]
    assert all(Path(t).is_file() for t in thumbs)
    assert max(Image.open(thumbs[-1]).size) == 256
    assert worker.stop() == 0
