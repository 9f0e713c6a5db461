"""Video export benchmark: the studio's export against the same FFmpeg commands run by hand.

    .venv/bin/python bench/export.py                 # a 6 s 1280×720 clip to an Instagram Reel
    .venv/bin/python bench/export.py --seconds 2 --runs 1 --preset tiktok

The studio's side is a whole export-video job run by the real job runner in this process:
submit (probe of the input, job row, queue), loudness pass 1, render with progress and cancel
checks, probe of the result, sha256, Asset rows and the copy to the export folder. The baseline
runs the identical FFmpeg commands (the same argument lists, pass 1 then pass 2) with
subprocess.run, writing straight to its destination. Runs alternate which side goes first;
medians are compared. Goal: ratio at most 1.05. Warm: the source clip is in the page cache
for both sides (made in this run, read by both).
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from studio.engine.core import Studio
from studio.engine.jobs.runner import JobRunner
from studio.engine.media.ffmpeg import find_ffmpeg
from studio.engine.media.finishing import Finish, plan_export
from studio.engine.media.jobs import ExportRequest, submit_export
from studio.engine.media.loudness import loudnorm_report, measured_from
from studio.engine.media.presets import find_preset
from studio.engine.media.probe import probe

GOAL = 1.05


def make_source(exe: str, path: Path, seconds: float, size: str) -> Path:
    subprocess.run([exe, "-v", "error", "-y", "-f", "lavfi",
                    "-i", f"testsrc2=size={size}:rate=30:duration={seconds}",
                    "-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}",
                    "-af", "volume=-20dB", "-c:v", "libx264", "-preset", "veryfast",
                    "-c:a", "aac", str(path)], check=True)
    return path


def by_hand(exe: str, source: Path, preset_slug: str, finish: Finish, out: Path) -> float:
    """The commands the studio runs, typed in a terminal: pass 1, read the figures, pass 2."""
    preset = find_preset(preset_slug)
    sources = [probe(source)]  # not timed: someone typing the command knows their clip
    plan = plan_export(exe, sources, preset, finish, out)
    started = time.perf_counter()
    measured = None
    if plan.measure_argv is not None:
        pass1 = subprocess.run(plan.measure_argv, capture_output=True, text=True, check=True)
        measured = measured_from(loudnorm_report(pass1.stderr))
    final = plan_export(exe, sources, preset, finish, out, measured=measured)
    subprocess.run(final.argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - started


def in_studio(studio: Studio, source: Path, preset_slug: str, finish: Finish, out_dir: Path) -> float:
    workspace = studio.workspace()
    started = time.perf_counter()
    job = submit_export(studio, workspace.id, ExportRequest(
        inputs=[source], preset=preset_slug, finish=finish, export_to=out_dir))
    huey = studio.queues.hueys["video"]
    huey.execute(huey.dequeue())
    elapsed = time.perf_counter() - started
    done = studio.jobs.get(workspace.id, job.id)
    if done.status != "completed":
        raise SystemExit(f"the studio's export {done.status}: {done.error}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=6.0, help="clip length")
    parser.add_argument("--size", default="1280x720", help="source frame size")
    parser.add_argument("--preset", default="instagram-reel")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-loudness", action="store_true", help="one pass instead of two")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-export-") as tmp:
        root = Path(tmp)
        studio = Studio.open(root / "data")
        studio.queues.set_runner(JobRunner(studio.db, studio.paths, studio.settings, "bench"))
        exe = find_ffmpeg(studio.settings).exe
        source = make_source(exe, root / "source clip.mp4", args.seconds, args.size)
        source.read_bytes()  # warm for both sides
        finish = Finish(loudness=None if args.no_loudness else -14.0)
        print(f"clip {args.seconds:g} s {args.size} 30 fps H.264+AAC (warm), preset {args.preset}, "
              f"loudness {'off' if args.no_loudness else 'two-pass -14 LUFS'}, runs {args.runs}, "
              f"ffmpeg {exe}")
        hand, studio_s = [], []
        for run in range(args.runs):
            order = [0, 1] if run % 2 == 0 else [1, 0]
            for side in order:
                if side == 0:
                    hand.append(by_hand(exe, source, args.preset, finish, root / f"hand-{run}.mp4"))
                else:
                    studio_s.append(in_studio(studio, source, args.preset, finish, root / f"out-{run}"))
        studio.close()
    ratio = statistics.median(studio_s) / statistics.median(hand)
    print(f"by hand : median {statistics.median(hand):.3f} s  ({', '.join(f'{t:.3f}' for t in hand)})")
    print(f"studio  : median {statistics.median(studio_s):.3f} s  "
          f"({', '.join(f'{t:.3f}' for t in studio_s)})")
    print(f"export ratio (studio / by hand): {ratio:.3f}  goal <= {GOAL}  "
          f"{'OK' if ratio <= GOAL else 'ABOVE GOAL'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
