"""Team-mode worker processes for the tests: a profile connected to the test servers, a real
``worker --server`` process, and what it wrote to its log."""
from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from studio.engine.core import Studio
from studio.engine.worker.process import local_worker
from tests.conftest import ROOT, studio_command, wait_until


def connected_profile(data_dir: Path, database_url: str, redis_url: str) -> Studio:
    """A profile on the shared servers, beating every 0.5 s and counted gone after 3 s."""
    studio = Studio.open(data_dir)
    studio.settings.set("database.url", database_url)
    studio.settings.set("queue.backend", "redis")
    studio.settings.set("queue.redis_url", redis_url)
    studio.settings.set("worker.heartbeat_interval_s", 0.5)
    studio.settings.set("worker.heartbeat_timeout_s", 3.0)
    studio.save_settings()
    return studio


def start_worker(data_dir: Path) -> subprocess.Popen[bytes]:
    """``worker --server`` on the general queue, one job at a time; its log is worker.jsonl."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("INFLUENCERAI_SECRET_")}
    proc = subprocess.Popen(studio_command(data_dir, "worker", "--server", "--queues", "general",
                                           "--concurrency", "1"),
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_until(lambda: local_worker(Studio.open(data_dir).paths) is not None or proc.poll() is not None,
               what="a worker to start")
    assert proc.poll() is None, "the worker did not start"
    return proc


def stop_workers(procs: list[subprocess.Popen[bytes]]) -> None:
    for proc in procs:
        proc.terminate()
        proc.wait(timeout=30)


def log_lines(box: Path, level: str, logger: str = "studio.worker") -> list[str]:
    """The messages one logger wrote at one level to the worker log of the profile ``box``."""
    path = box / "logs" / "worker.jsonl"
    if not path.exists():
        return []
    entries = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    return [e["message"] for e in entries if e["level"] == level and e["logger"] == logger]
