"""A job verb never waits forever, and a killed one does not make its job run twice.

Real command-line processes, a real worker started for some queues only, a stalled worker's
heartbeat row written stale (no process behind it), and a real CLI killed with SIGKILL while it
runs a paid job, then a real worker started; real CLIs stopped with SIGTERM or SIGKILL while they
run their job in-process, then a real worker that takes the job at once."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest

from studio.engine.core import Studio
from studio.engine.db.models import Job, WorkerRecord
from studio.engine.db.types import utcnow
from tests.cli.conftest import Cli, make_image
from tests.conftest import ROOT, WorkerProcess, run_cli, studio_command, wait_until
from tests.engine.plans.helpers import plan_answer
from tests.fakes.comfyui_server import FakeComfyUI
from tests.fakes.openai_server import FakeOpenAI

TARGET = ("--influencer", "Mia", "--dataset", "Set A")


@pytest.fixture
def dataset(cli: Cli, tmp_path: Path) -> Path:
    """Mia's dataset and a folder with one picture to import into it."""
    assert cli("influencer", "create", "Mia", "--trigger", "mia_v").code == 0
    assert cli("dataset", "create", *TARGET[:2], TARGET[3]).code == 0
    make_image(tmp_path / "in" / "one.png")
    return tmp_path / "in"


def _record_of(studio: Studio, worker: WorkerProcess) -> WorkerRecord:
    def found() -> WorkerRecord | None:
        with studio.db.session() as session:
            return session.query(WorkerRecord).filter(WorkerRecord.pid == worker.proc.pid).first()
    record = wait_until(found, what="the worker's heartbeat row")
    assert isinstance(record, WorkerRecord)
    return record


def test_a_worker_for_other_queues_does_not_hold_an_import(studio: Studio, dataset: Path,
                                                           worker_factory: Callable[..., WorkerProcess]
                                                           ) -> None:
    training_only = worker_factory("--queues", "training")
    _record_of(studio, training_only)
    done = run_cli(studio.paths.data_dir, "dataset", "import", *TARGET, str(dataset))
    assert done.returncode == 0, done.stderr
    assert "imported 1" in done.stdout
    assert (f"waiting for a worker on queue 'general' — none is serving it ({socket.gethostname()} "
            f"(pid {training_only.proc.pid}) serves training); running the job in this process"
            in done.stderr)
    assert "Traceback" not in done.stderr


def test_a_stalled_worker_is_named_and_the_import_runs_here(studio: Studio, dataset: Path) -> None:
    here = socket.gethostname()
    with studio.db.session() as session:  # its heartbeat stopped 2 minutes ago; no process
        session.add(WorkerRecord(id=f"{here}:4242:stalled", host=here, pid=4242, queues=["general"],
                                 heartbeat_at=utcnow() - timedelta(seconds=125)))
    done = run_cli(studio.paths.data_dir, "dataset", "import", *TARGET, str(dataset))
    assert done.returncode == 0, done.stderr
    assert (f"the worker for queue 'general' on {here} (pid 4242) is not answering (last seen "
            "2 min ago); running the job in this process") in done.stderr
    assert "imported 1" in done.stdout and "Traceback" not in done.stderr


@pytest.fixture
def slow_llm(studio: Studio) -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as fake:
        studio.settings.llm.base_url = fake.base_url
        studio.settings.llm.model = "openai/gpt-4o-mini"
        studio.save_settings()
        yield fake


def _posts(server: FakeOpenAI) -> int:
    return sum(1 for r in server.received if r.method == "POST")


def _only_job(studio: Studio) -> Job:
    [job] = studio.jobs.list(studio.workspace().id)
    return job


def test_a_killed_cli_s_paid_job_is_abandoned_not_paid_again(studio: Studio, cli: Cli,
                                                             slow_llm: FakeOpenAI,
                                                             worker_factory: Callable[..., WorkerProcess]
                                                             ) -> None:
    assert cli("influencer", "create", "Mia", "--trigger", "mia_v").code == 0
    answer = plan_answer(date(2026, 12, 1), 1)
    slow_llm.success_json(answer, delay_s=8).success_json(answer)  # a second call would be paid
    env = {**os.environ, "INFLUENCERAI_SECRET_OPENROUTER": "sk-or-killed-cli"}
    proc = subprocess.Popen(studio_command(studio.paths.data_dir, "plan", "generate", "--influencer",
                                           "Mia", "--from", "2026-12-01", "--days", "1"),
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until(lambda: _posts(slow_llm) == 1, what="the paid call to be under way")
        assert _only_job(studio).status == "processing"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    worker = worker_factory()
    wait_until(lambda: _only_job(studio).status == "failed", what="the recovery to settle the job")
    job = _only_job(studio)
    assert job.error.startswith(f"Abandoned: the command line running this job (pid {proc.pid} on ")
    assert f"`jobs retry {job.id}`" in job.error
    assert _posts(slow_llm) == 1
    shown = run_cli(studio.paths.data_dir, "jobs", "show", str(job.id))
    assert "Abandoned" in shown.stdout + shown.stderr and "Traceback" not in shown.stderr
    assert worker.stop() == 0


# Killed while it runs its job in-process: SIGTERM releases the job at once; SIGKILL leaves it to
# the next worker, which knows the process is gone by its pid. The heartbeat timeout is set far
# beyond the waits below, so a job handled in time was not left to it.
FAR_TIMEOUT_S = 600.0
GENERATE = ("generate", "image", "--template", "txt2img-sd15-lora", "--prompt", "mia, portrait",
            "--set", "checkpoint=sd15.safetensors", "--set", "lora_name=mia_v1.safetensors",
            "--set", "steps=3")


@pytest.fixture
def held_comfyui(studio: Studio) -> Iterator[FakeComfyUI]:
    """A ComfyUI whose first prompt waits until released; the next ones run at once."""
    with FakeComfyUI() as fake:
        studio.settings.comfyui.url = fake.base_url
        studio.settings.worker.heartbeat_timeout_s = FAR_TIMEOUT_S
        studio.save_settings()
        fake.script(hold_at="3")
        yield fake


def _running_here(studio: Studio, comfy: FakeComfyUI) -> subprocess.Popen[str]:
    proc = subprocess.Popen(studio_command(studio.paths.data_dir, *GENERATE), cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wait_until(lambda: comfy.requests("POST", "/prompt"), timeout=60, what="the prompt to be sent")
    job = _only_job(studio)
    assert job.status == "processing" and ":cli-" in (job.worker_id or "")
    return proc


def test_a_cli_stopped_with_sigterm_puts_its_job_back_for_the_next_worker(
        studio: Studio, held_comfyui: FakeComfyUI, worker_factory: Callable[..., WorkerProcess]) -> None:
    proc = _running_here(studio, held_comfyui)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 128 + signal.SIGTERM, err
    job = _only_job(studio)
    assert job.status == "pending" and job.worker_id is None  # at once, no worker needed
    assert f"stopped: job {job.id} is back in the queue; the next worker runs it at once" in err
    assert "Traceback" not in err
    held_comfyui.release()  # the killed run's prompt ends; the worker's own one runs next
    worker = worker_factory()
    wait_until(lambda: _only_job(studio).status == "completed", timeout=90,
               what="the next worker to run the released job")
    assert len(held_comfyui.requests("POST", "/prompt")) == 2  # the stopped run's, then the worker's once
    assert worker.stop() == 0


def test_a_cli_s_paid_job_stopped_with_sigterm_is_abandoned_at_once(studio: Studio, cli: Cli,
                                                                    slow_llm: FakeOpenAI) -> None:
    assert cli("influencer", "create", "Mia", "--trigger", "mia_v").code == 0
    slow_llm.success_json(plan_answer(date(2026, 12, 1), 1), delay_s=8)
    env = {**os.environ, "INFLUENCERAI_SECRET_OPENROUTER": "sk-or-stopped-cli"}
    proc = subprocess.Popen(studio_command(studio.paths.data_dir, "plan", "generate", "--influencer",
                                           "Mia", "--from", "2026-12-01", "--days", "1"),
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    wait_until(lambda: _posts(slow_llm) == 1, what="the paid call to be under way")
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 128 + signal.SIGTERM, err
    job = _only_job(studio)
    assert job.status == "failed" and job.error.startswith(
        f"Abandoned: the command line running this job (pid {proc.pid} on ")
    assert f"`jobs retry {job.id}` runs it again" in err and "Traceback" not in err


def test_a_cli_killed_mid_job_is_known_dead_by_pid_and_a_starting_worker_runs_its_job(
        studio: Studio, held_comfyui: FakeComfyUI, worker_factory: Callable[..., WorkerProcess]) -> None:
    proc = _running_here(studio, held_comfyui)
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=30)
    assert _only_job(studio).status == "processing"  # nobody could say otherwise yet
    held_comfyui.release()
    worker = worker_factory()
    wait_until(lambda: _only_job(studio).status == "completed", timeout=90,
               what="the starting worker to recover and run the job")
    assert _only_job(studio).attempts == 2  # the killed run, then the worker's
    assert worker.stop() == 0
