"""live_workers: fresh heartbeats only; this workspace's jobs named, other workspaces' counted."""
from __future__ import annotations

from datetime import timedelta

from studio.engine.core import Studio
from studio.engine.db.models import Job, WorkerRecord
from studio.engine.db.repositories import Repository
from studio.engine.db.types import utcnow
from studio.engine.server.workers import live_workers


def test_live_workers_show_their_queues_and_current_jobs_without_leaking_other_workspaces(
        studio: Studio) -> None:
    mine, other = studio.workspace("Mine", create=True), studio.workspace("Other", create=True)
    with studio.db.session() as session:
        session.add_all([
            WorkerRecord(id="gpu-box:11:aa", host="gpu-box", pid=11, queues=["training"],
                         gpu="NVIDIA GeForce RTX 4090, 24564 MiB"),
            WorkerRecord(id="laptop:22:bb", host="laptop", pid=22, queues=["general", "video"]),
            WorkerRecord(id="old:33:cc", host="old", pid=33, queues=["general"],
                         heartbeat_at=utcnow() - timedelta(minutes=5)),
            WorkerRecord(id="gone:44:dd", host="gone", pid=44, queues=["general"], stopped_at=utcnow())])
        Repository(session, mine.id).add(Job(type="train-lora", queue="training", title="Train Mia",
                                             status="processing", worker_id="gpu-box:11:aa"))
        Repository(session, other.id).add(Job(type="train-lora", queue="training", title="Secret client",
                                              status="processing", worker_id="gpu-box:11:aa"))
        Repository(session, mine.id).add(Job(type="make-thumbnails", queue="general", title="Done one",
                                             status="completed", worker_id="laptop:22:bb"))
    live = live_workers(studio.db, mine.id, timeout_s=30)
    assert [(w.host, w.queues) for w in live] == [("gpu-box", ("training",)),
                                                  ("laptop", ("general", "video"))]
    gpu, laptop = live
    assert gpu.current == ("Train Mia",) and gpu.busy_elsewhere == 1
    assert gpu.gpu == "NVIDIA GeForce RTX 4090, 24564 MiB" and laptop.gpu == ""
    assert laptop.current == () and laptop.busy_elsewhere == 0
    assert all(0 <= w.heartbeat_age_s < 30 for w in live)
    assert "Secret client" not in repr(live_workers(studio.db, mine.id, timeout_s=30))


def test_machine_gpu_names_each_gpu_nvidia_smi_lists(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from studio.engine.server.workers import machine_gpu
    from tests.engine.helpers import fake_tool
    fake_tool(tmp_path / "bin", "nvidia-smi",
              'assert sys.argv[1:] == ["--query-gpu=name,memory.total", "--format=csv,noheader"]\n'
              'print("NVIDIA H100 80GB HBM3, 81559 MiB")\nprint("NVIDIA GeForce RTX 4090, 24564 MiB")')
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    assert machine_gpu() == "NVIDIA H100 80GB HBM3, 81559 MiB; NVIDIA GeForce RTX 4090, 24564 MiB"
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    assert machine_gpu() == ""
