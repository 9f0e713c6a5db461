"""App start benchmark: how long from launching the app until its main window is on screen.

    .venv/bin/python bench/app_start.py            # 7 starts of each, interleaved
    .venv/bin/python bench/app_start.py --runs 11

Each run is a whole new process, timed from here (the interpreter's start included) until the
child says its window was shown and painted once: the app as `influencerai-studio` starts it
(its command-line entry, a fresh data folder each time, offscreen), against, in the same run,
a bare `python -c pass` and a bare PySide6 QMainWindow shown the same way. The app's child stops
at once after that, and its worker is never started (the session's start is cut to showing the
window). Printed: the median (min–max) of each and the app's ratio to the bare window. No issue
names a goal.
"""
from __future__ import annotations

import argparse
import importlib.abc
import importlib.machinery
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[1]
SHOWN = "shown"
BARE_WINDOW = ("from PySide6.QtWidgets import QApplication, QMainWindow\n"
               "app = QApplication([])\nwindow = QMainWindow()\nwindow.resize(1180, 760)\nwindow.show()\n"
               "app.processEvents()\nprint('shown', flush=True)\n")


class _ShownHook(importlib.abc.MetaPathFinder):
    """Loads studio.ui.session as usual, then makes its session say so and end once the window
    is shown: the app's own imports stay in the order and state they have in a real start."""

    def find_spec(self, name: str, path: object, target: object = None) -> importlib.machinery.ModuleSpec | None:
        if name != "studio.ui.session":
            return None
        sys.meta_path.remove(self)
        spec = importlib.machinery.PathFinder.find_spec(name, path)  # type: ignore[arg-type]
        assert spec is not None and spec.loader is not None
        loader, run = spec.loader, spec.loader.exec_module

        def exec_module(module: ModuleType) -> None:
            run(module)
            def start(session: module.StudioSession) -> None:  # type: ignore[name-defined]
                """What the session's start shows, without the worker and checks it starts."""
                from PySide6.QtWidgets import QApplication
                session.window.show()
                QApplication.processEvents()
                print(SHOWN, flush=True)
                os._exit(0)
            module.StudioSession.start = start

        loader.exec_module = exec_module  # type: ignore[method-assign]
        return spec


def child(data_dir: str) -> int:
    sys.path.insert(0, str(ROOT))  # this tree's studio, wherever the venv's points
    sys.meta_path.insert(0, _ShownHook())
    from studio.cli.main import main
    return main(["--data-dir", data_dir])


def timed(argv: list[str]) -> float:
    """Seconds from launching ``argv`` until it prints SHOWN (or ends, for `python -c pass`)."""
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen",
           "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}
    start = time.perf_counter()
    done = subprocess.run(argv, check=False, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    elapsed = time.perf_counter() - start
    if done.returncode != 0 or (argv[-1] != "pass" and SHOWN not in done.stdout):
        raise SystemExit(f"{argv[1:3]} did not show its window: {done.stderr.strip()[-400:]}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="starts of each (default 7)")
    parser.add_argument("--child", metavar="DATA_DIR", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args.child)
    cases = {"python -c pass": [sys.executable, "-c", "pass"],
             "bare QMainWindow shown": [sys.executable, "-c", BARE_WINDOW]}
    times: dict[str, list[float]] = {name: [] for name in [*cases, "the app's window shown"]}
    with tempfile.TemporaryDirectory(prefix="bench-app-start-") as tmp:
        timed([sys.executable, __file__, "--child", str(Path(tmp) / "warm")])  # files in the page cache
        for run in range(args.runs):
            for name, argv in cases.items():
                times[name].append(timed(argv))
            app = [sys.executable, __file__, "--child", str(Path(tmp) / f"data-{run}")]
            times["the app's window shown"].append(timed(app))
    print(f"app start: whole-process runs, {args.runs} each, interleaved, warm, offscreen, a fresh data "
          f"folder each; {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}; median (min–max)")
    bare = statistics.median(times["bare QMainWindow shown"])
    for name, values in times.items():
        median = statistics.median(values)
        print(f"  {name:24} {median:6.3f} s ({min(values):.3f}–{max(values):.3f})   "
              f"{median / bare:5.2f}× the bare window")
    return 0


if __name__ == "__main__":
    sys.exit(main())
