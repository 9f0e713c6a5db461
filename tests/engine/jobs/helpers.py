"""Test images and waits shared by the job tests."""
from __future__ import annotations

import uuid
from pathlib import Path

from PIL import Image

from studio.engine.core import Studio
from studio.engine.db.models import Job
from studio.engine.db.repositories import Repository
from studio.engine.jobs.context import JobContext


def make_images(folder: Path, count: int, size: int = 640, *, progressive: bool = False) -> list[str]:
    """Distinct noise JPEGs. ``progressive``: about four times the decoding work per byte, for a
    job that must still be running when a test acts on it (the thumbnails of plain ones were
    made faster than a test's poll could catch them under way)."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(count):
        path = folder / f"img_{i:03d}.jpg"
        Image.effect_noise((size, size), 40 + i % 50).convert("RGB").save(path, quality=85, progressive=progressive)
        paths.append(str(path))
    return paths


def job_status(studio: Studio, workspace_id: uuid.UUID, job_id: uuid.UUID) -> str:
    return studio.jobs.get(workspace_id, job_id).status


def job_context(studio: Studio, job_type: str, title: str) -> JobContext:
    """A job row (not queued) and the context its handler would get: a stand-in holder of the GPU."""
    workspace = studio.workspace()
    with studio.db.session() as session:
        job = Repository(session, workspace.id).add(
            Job(type=job_type, queue="training", payload={}, title=title))
        job_id = job.id
    return JobContext(job_id=job_id, workspace_id=workspace.id, payload={}, db=studio.db,
                      paths=studio.paths, settings=studio.settings)
