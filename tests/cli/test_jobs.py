"""jobs list|show|retry|cancel on real job rows and the real SQLite queue."""
from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import text

from studio.engine.core import Studio
from studio.engine.db.models import Job
from studio.engine.media.thumbnails import ThumbnailPayload
from tests.cli.conftest import Cli, make_image, one_error_line
from tests.conftest import run_cli
from tests.fakes.openai_server import FakeOpenAI

FAKE_KEY = "-".join(("sk", "or", "v1", "00aa11bb22cc33dd44ee"))  # made here: no key-shaped text is committed


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


def _database_bytes(data_dir: Path) -> bytes:
    return b"".join(p.read_bytes() for p in data_dir.iterdir() if p.name.startswith("studio.sqlite3"))


def test_a_key_a_server_echoes_is_neither_stored_nor_shown(cli: Cli, studio: Studio, data_dir: Path) -> None:
    """Real processes: `plan generate` meets a 401 quoting the key; `jobs list|show` read the rows."""
    key = "-".join(("sk", "or", "v1", "5e3f9a1c" * 8))  # made here: no key-shaped text is committed
    echoes = [f"Incorrect API key provided: {key}", f"header was Authorization: Bearer {key}",
              "proxy postgresql://team:Tr0ub4dor-77@db.example/studio refused"]
    secrets = [key, "Tr0ub4dor-77"]
    with FakeOpenAI() as server:
        studio.settings.llm.base_url = server.base_url
        studio.settings.llm.model = "openai/gpt-4o-mini"
        studio.save_settings()
        studio.secrets.set("openrouter", key)
        assert run_cli(data_dir, "influencer", "create", "Mia").returncode == 0
        for echo in echoes:
            server.error(401, echo)
            made = run_cli(data_dir, "plan", "generate", "--influencer", "Mia", "--from",
                           "2026-12-01", "--days", "1")
            assert made.returncode == 1 and "HTTP 401" in made.stderr, made.stderr
            assert "Traceback" not in made.stderr
            assert not any(s in made.stdout + made.stderr for s in secrets)
    assert len(server.received) == 3
    listed = run_cli(data_dir, "jobs", "list", "--json").stdout
    jobs = json.loads(listed)
    assert [j["status"] for j in jobs] == ["failed"] * 3 and all("***" in j["error"] for j in jobs)
    assert not any(s in listed for s in secrets)
    for job in jobs:
        shown = cli("jobs", "show", job["id"])
        assert shown.code == 0 and "HTTP 401" in shown.out
        assert "***" in shown.out and not any(s in shown.out for s in secrets)
    stored = _database_bytes(data_dir)
    assert b"Incorrect API key provided: ***" in stored
    assert not any(s.encode() in stored for s in secrets)


def test_a_row_written_before_redaction_is_still_shown_redacted(cli: Cli, studio: Studio,
                                                                 tmp_path: Path) -> None:
    job = _submit(studio, tmp_path)
    with studio.db.session() as session:  # as an older studio stored it, past the column type
        session.execute(text("UPDATE jobs SET error = :e WHERE id = :i"),
                        {"e": f"bad key {FAKE_KEY}\n\x1b[2Kforged line",
                         "i": job.id.hex})
    shown = cli("jobs", "show", str(job.id))
    assert "bad key ***" in shown.out and "sk-or-v1-00aa" not in shown.out
    assert "\x1b" not in shown.out and not any(line.startswith("forged") for line in shown.out.splitlines())
    error_line = next(line for line in shown.out.splitlines() if line.startswith("error"))
    assert error_line.endswith("bad key ***\\n\\x1b[2Kforged line")
