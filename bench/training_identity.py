"""Training identity benchmark (issue 20, Speed: scoring must not slow the loop).

    .venv/bin/python bench/training_identity.py            # N = 12 samples per way
    .venv/bin/python bench/training_identity.py --n 30

While a training runs, the job's thread follows sd-scripts' output and a second thread scores
each sample picture. dlib holds the GIL while it detects and describes a face, so scoring in the
job's process stalls the following thread. A 1 ms ticker thread stands in for the follower; its
longest gap is measured idle (the baseline, same run), while N samples are scored in this
process (``score_sample``) and while they are scored in a picture worker process
(``score_elsewhere``, what the training does). Samples: the three people of tests/photos.py as
PNGs (512 px to 600 px, as SD 1.5 samples are), warm (the model loaded, the worker started).
Goal: the follower never stalls more than 50 ms (it reads the pipe every 0.5 s at most).
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from studio.engine.identity import descriptors
from studio.engine.identity.scoring import picture_faces
from studio.engine.training.identity import score_elsewhere, score_sample
from tests.photos import PEOPLE, photo_image

GOAL_STALL_MS = 50.0


class Ticker:
    """A thread that wakes every millisecond and keeps the longest gap between wakes."""

    def __init__(self) -> None:
        self.longest = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        last = time.perf_counter()
        while not self._stop.is_set():
            time.sleep(0.001)
            now = time.perf_counter()
            self.longest = max(self.longest, now - last)
            last = now

    def __enter__(self) -> Ticker:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


def measure(work: Callable[[], object], n: int) -> tuple[float, float]:
    """(seconds per call, longest ticker gap in ms) over n calls."""
    with Ticker() as ticker:
        started = time.perf_counter()
        for _ in range(n):
            work()
        per_call = (time.perf_counter() - started) / n
    return per_call, ticker.longest * 1000


def main() -> int:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--n", type=int, default=12)
    args = options.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        samples = []
        for name in PEOPLE:
            path = Path(folder) / f"{name}.png"
            photo_image(name).save(path)
            samples.append(path)
        found, _ = picture_faces(samples[0])  # loads the model here; her centroid: the astronaut
        centroid = descriptors.centroid(found)
        turn = iter(range(10**9))

        def here() -> object:
            return score_sample(samples[next(turn) % len(samples)], 1, centroid)

        def elsewhere() -> object:
            return score_elsewhere(samples[next(turn) % len(samples)], 1, centroid)

        elsewhere()  # starts the picture workers (and loads the model there)
        _, idle_ms = measure(lambda: time.sleep(0.2), max(3, args.n // 4))
        here_s, here_ms = measure(here, args.n)
        there_s, there_ms = measure(elsewhere, args.n)
    print(f"samples: {', '.join(PEOPLE)} (PNG, short side 512–600 px), N={args.n} per way, warm")
    print(f"idle (baseline):           longest stall {idle_ms:6.1f} ms")
    print(f"scored in this process:    {here_s * 1000:6.0f} ms/sample, longest stall {here_ms:6.1f} ms "
          f"({here_ms / max(idle_ms, 0.1):.1f}× idle)")
    print(f"scored in a worker:        {there_s * 1000:6.0f} ms/sample, longest stall {there_ms:6.1f} ms "
          f"({there_ms / max(idle_ms, 0.1):.1f}× idle)")
    ok = there_ms < GOAL_STALL_MS
    print(f"goal: the follower stalls under {GOAL_STALL_MS:g} ms: {'met' if ok else 'MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
