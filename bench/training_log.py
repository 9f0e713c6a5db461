"""Training log benchmark: sd-scripts' console output through the studio's parser.

    .venv/bin/python bench/training_log.py              # 100,000 steps
    .venv/bin/python bench/training_log.py --steps 5000

A synthetic run in sd-scripts' format (PROTOCOLS.md): the start block, a tqdm redraw per step
(``\\rsteps: …`` with no newline, as the bar writes to a pipe), ``\\nepoch N/M``, a
``saving checkpoint`` line every ten epochs, ``model saved.``. The studio's path is what the
runner does with each read from the pipe: split on \\r and \\n (LineSplitter), feed the lines to
the parser, ask for the latest progress. The baseline is a bare ``for line in stream: pass`` over
the same bytes (a text stream with universal newlines, so \\r ends a line there too), measured
in the same run. Best of five each, warm (everything in memory).
"""
from __future__ import annotations

import argparse
import io
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from studio.engine.training.log_parser import LineSplitter, LogParser

T = TypeVar("T")
READ_SIZE = 64 * 1024  # what the runner asks the pipe for
GOAL_RATIO = 3.0
GOAL_LINES_S = 100_000
STEPS_PER_EPOCH = 1000


def clock(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours:d}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


def synthetic_output(steps: int) -> bytes:
    epochs = max(1, steps // STEPS_PER_EPOCH)
    parts = ["running training / 学習開始\n",
             f"  num train images * repeats / 学習画像の数×繰り返し回数: {STEPS_PER_EPOCH}\n",
             f"  num epochs / epoch数: {epochs}\n",
             f"  total optimization steps / 学習ステップ数: {steps}\n",
             f"\rsteps:   0%|          | 0/{steps} [00:00<?, ?it/s]"]
    blocks = " ▏▎▍▌▋▊▉█"
    rate = 1.92
    for step in range(1, steps + 1):
        if (step - 1) % STEPS_PER_EPOCH == 0:
            parts.append(f"\nepoch {(step - 1) // STEPS_PER_EPOCH + 1}/{epochs}\n")
        cells = step / steps * 10
        full = int(cells)
        bar = ("█" * full + (blocks[int((cells - full) * 8)] if full < 10 else "")).ljust(10)
        loss = 0.02 + 0.1 / (1 + step / 5000)
        parts.append(f"\rsteps: {step / steps * 100:3.0f}%|{bar}| {step}/{steps} "
                     f"[{clock(step / rate)}<{clock((steps - step) / rate)}, {rate:5.2f}it/s, "
                     f"avr_loss={loss:2.3g}]")
        if step % (STEPS_PER_EPOCH * 10) == 0:
            parts.append(f"\nsaving checkpoint: /out/mia-{step // STEPS_PER_EPOCH:06d}.safetensors\n")
    parts.append("\nmodel saved.\n")
    return "".join(parts).encode("utf-8")


def bare_loop(data: bytes) -> int:
    count = 0
    for _line in io.TextIOWrapper(io.BytesIO(data), encoding="utf-8", newline=None):
        count += 1
    return count


def studio_parser(data: bytes) -> tuple[int, LogParser]:
    stream = io.BytesIO(data)
    splitter, parser = LineSplitter(), LogParser()
    count = 0
    while chunk := stream.read(READ_SIZE):
        lines = splitter.feed(chunk)
        count += len(lines)
        parser.feed_lines(lines)
        parser.progress(splitter.carry)
    rest = splitter.flush()
    parser.feed_lines(rest)
    parser.progress()
    return count + len(rest), parser


def best_of(runs: int, fn: Callable[..., T], *args: object) -> tuple[float, T]:
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        result = fn(*args)
        best = min(best, time.perf_counter() - start)
    return best, result


def main() -> int:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--steps", type=int, default=100_000)
    options.add_argument("--runs", type=int, default=5)
    args = options.parse_args()
    data = synthetic_output(args.steps)
    base_s, base_lines = best_of(args.runs, bare_loop, data)
    ours_s, (lines, parser) = best_of(args.runs, studio_parser, data)
    progress = parser.progress()
    assert progress is not None and progress.step == args.steps, progress  # it really parsed
    assert parser.model_saved and parser.total_steps == args.steps
    print(f"synthetic sd-scripts output: {args.steps:,} steps, {len(data) / 1e6:.1f} MB, "
          f"{lines:,} lines (baseline saw {base_lines:,}); warm, best of {args.runs}")
    print(f"bare `for line in stream` loop: {base_s * 1000:8.1f} ms  {base_lines / base_s:14,.0f} lines/s")
    print(f"studio splitter + parser:       {ours_s * 1000:8.1f} ms  {lines / ours_s:14,.0f} lines/s")
    ratio = ours_s / base_s
    print(f"ratio to the bare loop: {ratio:.2f} (goal < {GOAL_RATIO:g}); last step {progress.step}, "
          f"loss {progress.loss}, ETA {progress.eta_s} s")
    ok = ratio < GOAL_RATIO and lines / ours_s > GOAL_LINES_S
    print("goals met" if ok else "GOALS MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
