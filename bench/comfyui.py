"""Generation benchmark: does the studio ever leave ComfyUI's GPU idle between prompts?

    .venv/bin/python bench/comfyui.py                 # K = 20 prompts of 0.5 s each
    .venv/bin/python bench/comfyui.py --k 8 --seconds 0.25

FakeComfyUI runs prompts one at a time, each taking exactly --seconds. K generate-image jobs
are submitted at once to a real ``influencerai-studio worker`` (a child process, as users run
it) in a temporary data folder. Wall time runs from the first submit to the last job's finish as
its row records it (the bench's polling for it adds nothing).
Ideal is K × seconds; the baseline, measured in the same run, sends the same K graphs straight
to the fake with ComfyClient from 3 threads (no studio: no queue, no database, no storage).
Goal (issue 21): wall / (K × seconds) ≤ 1.01.
"""
from __future__ import annotations

import argparse
import itertools
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC
from pathlib import Path
from typing import Any

from sqlalchemy import select

os.environ.setdefault("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from studio.engine.comfyui.client import ComfyClient  # noqa: E402
from studio.engine.comfyui.generation import GenerationRequest, submit_generation  # noqa: E402
from studio.engine.comfyui.workflow_fill import fill  # noqa: E402
from studio.engine.comfyui.workflows import load_templates  # noqa: E402
from studio.engine.core import Studio  # noqa: E402
from studio.engine.db.models import Job  # noqa: E402
from studio.engine.jobs.registry import load_handlers  # noqa: E402
from studio.engine.worker.process import local_worker  # noqa: E402
from tests.fakes.comfyui_server import FakeComfyUI, Script  # noqa: E402

GOAL = 1.01
TEMPLATE = "txt2img-sd15-lora"
VALUES: dict[str, object] = {"checkpoint": "sd15.safetensors", "lora_name": "mia_v1.safetensors",
                             "positive": "photo of mia", "steps": 20}


def baseline(fake: FakeComfyUI, k: int) -> float:
    """K prompts straight through ComfyClient, 3 at a time, as fast as the fake allows."""
    template = load_templates().templates[TEMPLATE]
    graphs = [fill(template, {**VALUES, "seed": 10_000 + i}).graph for i in range(k)]

    def run(graph: dict[str, Any]) -> None:
        with ComfyClient(fake.base_url) as client:
            result = client.run(graph)
            for output in result.files():
                client.download(output)

    fake.runs.clear()
    started = time.monotonic()
    with ThreadPoolExecutor(3) as pool:
        list(pool.map(run, graphs))
    ended = time.monotonic()
    print("baseline: " + timeline(fake.runs, started, ended))
    return ended - started


def studio_run(fake: FakeComfyUI, k: int, data_dir: Path, lock_dir: Path) -> float:
    """Wall time from the first submit to the last job completed."""
    studio = Studio.open(data_dir)
    studio.settings.comfyui.url = fake.base_url
    studio.save_settings()
    # Own temp folder: the machine-wide GPU lock of other runs on this machine must not count.
    env = {**os.environ, "TMPDIR": str(lock_dir)}
    worker = subprocess.Popen([sys.executable, "-m", "studio", "--data-dir", str(data_dir), "worker"],
                              cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while local_worker(studio.paths) is None:
            time.sleep(0.05)
        time.sleep(1.0)  # consumers up and idle, as in a worker that has been running a while
        load_handlers()  # as in the app, whose pages have imported them before anyone clicks
        workspace = studio.workspace()
        fake.runs.clear()
        started = time.monotonic()
        jobs = submit_generation(studio, workspace.id, GenerationRequest(
            influencer_id=None, template=TEMPLATE, values=VALUES, count=k))
        print(f"submit_generation (check against /object_info, {k} jobs written and queued) took "
              f"{(time.monotonic() - started) * 1000:.0f} ms")
        ended = _wait(studio, [j.id for j in jobs])
        rows = [studio.jobs.get(workspace.id, j.id) for j in jobs]
        first = min(r.started_at for r in rows if r.started_at) - min(r.created_at for r in rows)
        print(f"first job picked up by the worker {first.total_seconds() * 1000:.0f} ms after "
              "its submit")
        print("studio:   " + timeline(fake.runs, started, ended))
        return ended - started
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(30)
        studio.close()


def _wait(studio: Studio, job_ids: list[uuid.UUID]) -> float:
    """When the last job finished, on this process's monotonic clock: from the rows' finish
    times, so the poll's own interval does not count. One query per poll: the fake shares this
    process and its GIL, so the wait stays light."""
    while True:
        with studio.db.session() as session:
            rows = session.execute(select(Job.status, Job.error, Job.finished_at).where(Job.id.in_(job_ids))).all()
        bad = [r for r in rows if r.status in ("failed", "canceled")]
        if bad:
            raise SystemExit(f"a job {bad[0].status}: {bad[0].error}")
        if len(rows) == len(job_ids) and all(r.status == "completed" for r in rows):
            last = max(r.finished_at for r in rows).replace(tzinfo=UTC).timestamp()
            return last - (time.time() - time.monotonic())
        time.sleep(0.02)


def timeline(runs: list[tuple[float, float]], started: float, ended: float) -> str:
    """Where the wall time went: before the first prompt, gaps between prompts, after the last."""
    runs = sorted(runs)
    gaps = sum(max(0.0, b[0] - a[1]) for a, b in itertools.pairwise(runs))
    busy = sum(end - start for start, end in runs)
    return (f"ComfyUI busy {busy:.3f} s; idle before the first prompt {(runs[0][0] - started) * 1000:.0f} ms, "
            f"between prompts {gaps * 1000:.0f} ms in all, after the last prompt "
            f"{(ended - runs[-1][1]) * 1000:.0f} ms")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--k", type=int, default=20, help="prompts (default 20)")
    parser.add_argument("--seconds", type=float, default=0.5, help="per prompt (default 0.5)")
    args = parser.parse_args()
    ideal = args.k * args.seconds
    print(f"parameters: K={args.k} prompts, {args.seconds} s each in FakeComfyUI (one at a time), "
          f"template {TEMPLATE}, 20 steps, 1 image of 8×8 per prompt, worker in a child process, "
          f"generation queue 3 workers; ideal {ideal:.2f} s")
    with tempfile.TemporaryDirectory() as tmp, FakeComfyUI() as fake:
        fake.default = Script(seconds=args.seconds)
        direct = baseline(fake, args.k)
        wall = studio_run(fake, args.k, Path(tmp) / "data", Path(tmp))
    print(f"baseline (ComfyClient, 3 threads, no studio): {direct:.3f} s = "
          f"{direct / ideal:.3f} × ideal")
    print(f"studio (submit → worker → jobs completed):   {wall:.3f} s")
    ratio = wall / ideal
    print(f"ratio wall / (K × seconds) = {ratio:.4f} (goal ≤ {GOAL}: {'OK' if ratio <= GOAL else 'MISSED'}); "
          f"vs baseline {wall / direct:.4f}")
    print(f"per-job overhead = {(wall - ideal) / args.k * 1000:.1f} ms "
          f"(baseline {(direct - ideal) / args.k * 1000:.1f} ms)")
    return 0  # a report: the figures are read, not a pass/fail gate


if __name__ == "__main__":
    sys.exit(main())
