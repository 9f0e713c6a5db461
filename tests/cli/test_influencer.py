"""influencer verbs, including `avatar`, whose job runs here or on a real worker."""
from __future__ import annotations

import signal
import subprocess
from pathlib import Path

from filelock import FileLock

from studio.engine.core import Studio
from studio.engine.db.models import WorkerRecord
from studio.engine.influencers import Persona, create_influencer
from studio.engine.worker.process import lock_path
from tests.cli.conftest import Cli, make_image, one_error_line
from tests.conftest import ROOT, WorkerProcess, studio_command


def test_create_show_edit(cli: Cli) -> None:
    created = cli("influencer", "create", "Nova Vega", "--trigger", "nvavega", "--tone", "warm",
                  "--topics", "fitness,  travel ,", "--language", "it", "--json")
    assert created.code == 0
    assert created.json()["topics"] == ["fitness", "travel"]
    edited = cli("influencer", "edit", "Nova Vega", "--name", "Nova", "--style", "film grain")
    assert edited.code == 0, edited.err
    shown = cli("influencer", "show", "Nova", "--json").json()
    assert (shown["name"], shown["trigger_word"], shown["tone"], shown["style"], shown["language"]) == (
        "Nova", "nvavega", "warm", "film grain", "it")
    assert shown["version"] == 2 and shown["workspace"] == "My studio"
    assert "trigger_word" in cli("influencer", "show", "Nova").out


def test_issue_example_with_workspace_option(cli: Cli) -> None:
    cli("workspace", "create", "Agency")
    assert cli("influencer", "create", "Nova", "--workspace", "Agency", "--trigger", "nva").code == 0
    listed = cli("influencer", "list", "--workspace", "Agency", "--json").json()
    assert [(i["name"], i["trigger_word"]) for i in listed] == [("Nova", "nva")]


def test_unique_name_resolves_without_workspace(cli: Cli) -> None:
    cli("workspace", "create", "Main")
    cli("workspace", "create", "Agency")
    cli("workspace", "use", "Main")
    cli("influencer", "create", "Nova", "--workspace", "Agency")
    assert cli("influencer", "show", "Nova", "--json").json()["workspace"] == "Agency"
    cli("influencer", "create", "Nova", "--workspace", "Main")
    assert cli("influencer", "show", "Nova", "--json").json()["workspace"] == "Main"


def test_bad_input_and_unknown_names(cli: Cli) -> None:
    bad = cli("influencer", "create", "Nova", "--trigger", "two words")
    assert bad.code == 2 and "trigger word" in one_error_line(bad.err)
    cli("influencer", "create", "Nova")
    taken = cli("influencer", "create", "Nova")
    assert taken.code == 1 and "already exists" in one_error_line(taken.err)
    missing = cli("influencer", "show", "Nobody")
    assert missing.code == 1 and "Nobody" in one_error_line(missing.err)
    assert cli("influencer", "edit", "Nobody", "--tone", "x").code == 1


def test_delete_moves_to_trash(cli: Cli) -> None:
    cli("influencer", "create", "Nova")
    deleted = cli("influencer", "delete", "Nova")
    assert deleted.code == 0 and "trash restore" in deleted.out
    assert cli("influencer", "list", "--json").json() == []
    assert [i["name"] for i in cli("trash", "list", "--json").json()] == ["Nova"]


def test_avatar_runs_in_process_when_no_worker(cli: Cli, studio: Studio, tmp_path: Path) -> None:
    cli("influencer", "create", "Nova")
    result = cli("influencer", "avatar", "Nova", str(make_image(tmp_path / "face.png")), "--json")
    assert result.code == 0, result.err
    assert "running the job in this process" in result.err and "100.0%" in result.err
    job = result.json()
    assert job["status"] == "completed" and ":cli-" in job["worker_id"]
    thumbs = next(iter(job["result"]["thumbnails"].values()))
    assert all(Path(t).is_file() for t in thumbs)
    with studio.db.session() as session:  # the temporary consumer signed off
        record = session.get(WorkerRecord, job["worker_id"])
        assert record is not None and record.stopped_at is not None
    assert cli("influencer", "show", "Nova", "--json").json()["avatar"]


def test_avatar_waits_for_a_running_worker(cli: Cli, worker: WorkerProcess, tmp_path: Path) -> None:
    cli("influencer", "create", "Nova")
    result = cli("influencer", "avatar", "Nova", str(make_image(tmp_path / "face.jpg")), "--json")
    assert result.code == 0, result.err
    assert "in this process" not in result.err
    job = result.json()
    assert job["status"] == "completed" and ":cli-" not in job["worker_id"]
    assert worker.proc.poll() is None


def test_avatar_no_wait_prints_the_job_id(cli: Cli, studio: Studio, tmp_path: Path) -> None:
    cli("influencer", "create", "Nova")
    result = cli("influencer", "avatar", "Nova", str(make_image(tmp_path / "face.png")), "--no-wait")
    assert result.code == 0 and result.err == ""
    job = studio.jobs.get(studio.workspace().id, result.out.strip())
    assert job.status == "pending" and job.type == "make-thumbnails"


def test_avatar_refuses_a_non_image(cli: Cli, tmp_path: Path) -> None:
    cli("influencer", "create", "Nova")
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    result = cli("influencer", "avatar", "Nova", str(text))
    assert result.code == 2 and "not a supported picture" in one_error_line(result.err)


def test_ctrl_c_cancels_the_job_waited_for(studio: Studio, data_dir: Path, tmp_path: Path) -> None:
    """A 'worker' holds the lock but consumes nothing, so the command waits until SIGINT."""
    ws = studio.workspace()
    create_influencer(studio, ws.id, Persona(name="Nova"))
    image = make_image(tmp_path / "face.png")
    with FileLock(str(lock_path(studio.paths)), timeout=0):
        proc = subprocess.Popen(studio_command(data_dir, "influencer", "avatar", "Nova", str(image)),
                                cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            assert proc.stderr is not None
            first = proc.stderr.readline()  # the first progress line: it is waiting now
            assert first.startswith("pending"), first
            proc.send_signal(signal.SIGINT)
            _out, err = proc.communicate(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    assert studio.jobs.list(ws.id)[0].status == "canceled"

