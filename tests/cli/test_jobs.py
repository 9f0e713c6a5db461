"""jobs list|show|retry|cancel on real job rows and the real SQLite queue."""
from __future__ import annotations

from pathlib import Path

from studio.engine.core import Studio
from studio.engine.db.models import Job
from studio.engine.media.thumbnails import ThumbnailPayload
from tests.cli.conftest import Cli, make_image, one_error_line


def _submit(studio: Studio, tmp_path: Path) -> Job:
    image = make_image(tmp_path / "in" / "a.png")
    return studio.jobs.submit(studio.workspace().id, "make-thumbnails", ThumbnailPayload(files=(image,)),
                              title="Thumbs")


def test_cancel_a_pending_job(cli: Cli, studio: Studio, tmp_path: Path) -> None:
    job = _submit(studio, tmp_path)
    result = cli("jobs", "cancel", str(job.id))
    assert result.code == 0 and "canceled" in result.out
    assert studio.jobs.get(job.workspace_id, job.id).status == "canceled"
    again = cli("jobs", "cancel", str(job.id))
    assert again.code == 2 and "already canceled" in one_error_line(again.err)


def test_list_and_show(cli: Cli, studio: Studio, tmp_path: Path) -> None:
    first = _submit(studio, tmp_path)
    second = _submit(studio, tmp_path)
    cli("jobs", "cancel", str(first.id))
    rows = cli("jobs", "list", "--json").json()
    assert [r["id"] for r in rows] == [str(second.id), str(first.id)]
    assert [r["id"] for r in cli("jobs", "list", "--status", "canceled", "--json").json()] == [str(first.id)]
    assert len(cli("jobs", "list", "--limit", "1", "--json").json()) == 1
    assert "Thumbs" in cli("jobs", "list").out
    shown = cli("jobs", "show", str(second.id)[:8], "--json").json()  # a prefix is enough
    assert shown["id"] == str(second.id) and shown["status"] == "pending"
    assert shown["payload"]["files"] and shown["created_at"].endswith("+00:00")


def test_retry_with_wait_runs_the_job_here(cli: Cli, studio: Studio, tmp_path: Path) -> None:
    job = _submit(studio, tmp_path)
    cli("jobs", "cancel", str(job.id))
    result = cli("jobs", "retry", str(job.id), "--wait")
    assert result.code == 0, result.err
    assert studio.jobs.get(job.workspace_id, job.id).status == "completed"


def test_retry_without_wait_only_queues(cli: Cli, studio: Studio, tmp_path: Path) -> None:
    job = _submit(studio, tmp_path)
    cli("jobs", "cancel", str(job.id))
    result = cli("jobs", "retry", str(job.id))
    assert result.code == 0 and result.out.strip() == str(job.id)
    assert studio.jobs.get(job.workspace_id, job.id).status == "pending"


def test_a_failed_job_exits_1(cli: Cli, studio: Studio, tmp_path: Path) -> None:
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not a png")
    job = studio.jobs.submit(studio.workspace().id, "make-thumbnails", ThumbnailPayload(files=(broken,)))
    cli("jobs", "cancel", str(job.id))
    result = cli("jobs", "retry", str(job.id), "--wait")
    assert result.code == 1
    assert "failed" in result.err.splitlines()[-1] and "not an image" in result.err


def test_unknown_or_bad_ids(cli: Cli, studio: Studio) -> None:
    studio.workspace()
    unknown = cli("jobs", "show", "00000000-0000-0000-0000-000000000000")
    assert unknown.code == 1 and "No job" in one_error_line(unknown.err)
    assert cli("jobs", "show", "ab").code == 2
    assert cli("jobs", "list", "--status", "sleeping").code == 2
    assert cli("jobs", "list", "--limit", "0").code == 2
