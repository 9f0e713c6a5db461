"""Pre-check benchmark: what ``generate`` spends checking a workflow before the first prompt.

    .venv/bin/python bench/comfyui_check.py                # 506 KB /object_info, 7 runs each
    .venv/bin/python bench/comfyui_check.py --kb 2000 --runs 15

The studio's own code path, ``prepare_generation`` (template, fill, ComfyUI's catalogue, the
check against it: everything ``generate`` does before it writes the job), for one image of the
txt2img-sd15-lora template against FakeComfyUI in this process. The fake serves the real
ComfyUI 0.3.64 node definitions, padded with copies under other names to --kb of /object_info
(a real server with a few node packs answers about 506 KB; the copies of model loaders are
skipped so that, as on a real server, a few percent of the node types list a folder).

- cold (the baseline): no map kept anywhere, as on the first run after ComfyUI started; this is
  also what every check cost before the map was kept: /object_info fetched and parsed;
- warm, new process: the map on disk only (each command-line run starts like this);
- warm, same process: the map in memory too (the app, a worker, a batch).

Each figure is the median of --runs; the ratio is warm / cold. Goal (issue 21): warm < 50 ms.
"""
from __future__ import annotations

import argparse
import copy
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

os.environ.setdefault("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from studio.engine.comfyui import node_cache  # noqa: E402
from studio.engine.comfyui.generation import GenerationRequest, prepare_generation  # noqa: E402
from studio.engine.comfyui.validation import choices  # noqa: E402
from studio.engine.core import Studio  # noqa: E402
from studio.engine.errors import StudioError  # noqa: E402
from tests.fakes.comfyui_nodes import REAL_OBJECT_INFO  # noqa: E402
from tests.fakes.comfyui_server import FakeComfyUI  # noqa: E402

GOAL_MS = 50.0
TEMPLATE = "txt2img-sd15-lora"
VALUES: dict[str, object] = {"checkpoint": "sd15.safetensors", "lora_name": "mia_v1.safetensors",
                             "positive": "photo of mia", "steps": 20}


def padding(kb: int) -> dict[str, Any]:
    """Copies of the real definitions under new names until /object_info is about ``kb`` KB."""
    live = node_cache.live_classes(REAL_OBJECT_INFO)
    plain = [name for name in sorted(REAL_OBJECT_INFO) if name not in live]
    size = len(json.dumps(REAL_OBJECT_INFO))
    extra: dict[str, Any] = {}
    index = 0
    while size < kb * 1000:
        name = plain[index % len(plain)]
        copied = copy.deepcopy(REAL_OBJECT_INFO[name])
        copied["name"] = f"{name}Pad{index}"
        extra[copied["name"]] = copied
        size += len(json.dumps(copied)) + len(copied["name"]) + 4
        index += 1
    return extra


def median_ms(runs: int, before: Callable[[], object], check: Callable[[], object]) -> float:
    times = []
    for _ in range(runs):
        before()
        started = time.perf_counter()
        check()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def measure(url: str, values: dict[str, object], runs: int, data_dir: Path) -> None:
    studio = Studio.open(data_dir)
    studio.settings.comfyui.url = url
    workspace = studio.workspace().id
    request = GenerationRequest(influencer_id=None, template=TEMPLATE, values=values)
    check = lambda: prepare_generation(studio, workspace, request)  # noqa: E731
    try:
        check()  # imports, templates and the TLS-free client warmed up: only the map differs
    except StudioError as exc:  # a real ComfyUI without the checkpoint asked for, or down
        raise SystemExit(str(exc)) from None
    cache = studio.paths.cache_dir / node_cache.FOLDER

    def cold() -> None:
        node_cache.clear()
        shutil.rmtree(cache, ignore_errors=True)

    cold_ms = median_ms(runs, cold, check)
    disk_ms = median_ms(runs, node_cache.clear, check)
    memory_ms = median_ms(runs, lambda: None, check)
    studio.close()
    print(f"cold (baseline: /object_info fetched and parsed):   {cold_ms:7.1f} ms")
    print(f"warm, new process (map read from the cache folder): {disk_ms:7.1f} ms = "
          f"{disk_ms / cold_ms:.3f} × cold")
    print(f"warm, same process (map in memory):                 {memory_ms:7.1f} ms = "
          f"{memory_ms / cold_ms:.3f} × cold")
    worst = max(disk_ms, memory_ms)
    print(f"goal: warm < {GOAL_MS:.0f} ms: {'OK' if worst < GOAL_MS else 'MISSED'} "
          f"(worst warm {worst:.1f} ms)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kb", type=int, default=506, help="size of /object_info (default 506)")
    parser.add_argument("--runs", type=int, default=7, help="checks per case (default 7)")
    parser.add_argument("--url", help="a real ComfyUI instead of the fake (the LoRA is bypassed)")
    parser.add_argument("--checkpoint", help="with --url: one it has (default: the first it lists)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        if args.url:
            try:
                answer = httpx.get(f"{args.url}/object_info", timeout=60)
            except httpx.HTTPError as exc:
                raise SystemExit(f"ComfyUI at {args.url} does not answer: {exc}") from None
            listed = choices(answer.json(), "CheckpointLoaderSimple", "ckpt_name") or []
            checkpoint = args.checkpoint or next(iter(listed), None)
            if checkpoint is None:
                raise SystemExit(f"ComfyUI at {args.url} lists no checkpoint: add one to its models/checkpoints")
            print(f"parameters: ComfyUI at {args.url}, /object_info {len(answer.content) / 1000:.0f} KB, "
                  f"template {TEMPLATE} (1 image, checkpoint {checkpoint}, LoRA bypassed), median of "
                  f"{args.runs} runs")
            values = {**VALUES, "checkpoint": checkpoint, "lora_name": ""}
            measure(args.url.rstrip("/"), values, args.runs, Path(tmp) / "data")
            return 0
        with FakeComfyUI(node_specs=padding(args.kb)) as fake:
            info = fake._object_info()
            print(f"parameters: /object_info {len(json.dumps(info)) / 1000:.0f} KB, {len(info)} node "
                  f"types, template {TEMPLATE} (1 image), FakeComfyUI in this process, median of "
                  f"{args.runs} runs")
            measure(fake.base_url, VALUES, args.runs, Path(tmp) / "data")
            warm = fake.received[-3 * args.runs:]
            print(f"a warm check asks ComfyUI: {', '.join(sorted({f'{r.method} {r.path}' for r in warm}))}")
    return 0  # a report: the figures are read, not a pass/fail gate


if __name__ == "__main__":
    sys.exit(main())
