"""How long the command line takes to start, against a bare Python start.

    .venv/bin/python bench/cli_start.py          # 15 runs of each, median
    .venv/bin/python bench/cli_start.py -n 31

Whole-process runs, in turn (one of each per round, so load on a shared machine falls on all of
them alike): ``python -c pass`` (the baseline), ``python -m studio --version``, ``--help``,
``workspace list`` against a temporary solo data folder with one workspace (read the quick way,
studio/engine/db/quick_read.py), the same list the full way (what a team studio, a new data
folder or a migration due costs: SQLAlchemy and the models), and the installed
``influencerai-studio --version`` when the entry point is there. Warm: the files are in the
page cache after the first round. Issue 21's targets: --version and --help under 0.15 s,
``workspace list`` under 0.3 s (it was 0.80 s for --version against 0.02 s for the baseline).
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

ROOT = Path(__file__).resolve().parents[1]
# `workspace list` with the quick way refused, so the full way answers, in a process of its own.
FULL_WAY = ("import sys; import studio.engine.db.quick_read as quick; "
            "quick.solo_profile = lambda data_dir: None; "
            "from studio.cli.main import main; sys.exit(main(['workspace', 'list']))")
TARGETS_S = {"--version": 0.15, "--help": 0.15, "workspace list": 0.3, "entry point --version": 0.15}


def commands() -> dict[str, list[str]]:
    python = [sys.executable]
    found = {"python -c pass": [*python, "-c", "pass"],
             "--version": [*python, "-m", "studio", "--version"],
             "--help": [*python, "-m", "studio", "--help"],
             "workspace list": [*python, "-m", "studio", "workspace", "list"],
             "workspace list, full way": [*python, "-c", FULL_WAY]}
    script = Path(sys.executable).with_name("influencerai-studio")
    if script.exists():
        found["entry point --version"] = [str(script), "--version"]
    return found


def timed(command: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=15, help="runs of each command (default 15)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        env = {**os.environ, "INFLUENCERAI_DATA_DIR": str(Path(folder) / "data"),
               "INFLUENCERAI_CONFIG_DIR": str(Path(folder) / "config")}
        subprocess.run([sys.executable, "-m", "studio", "workspace", "create", "bench"], env=env,
                       cwd=ROOT, stdout=subprocess.DEVNULL, check=True)
        runs = commands()
        times: dict[str, list[float]] = {name: [] for name in runs}
        for _ in range(args.n):
            for name, command in runs.items():
                times[name].append(timed(command, env))
    print(f"cli_start: whole-process runs, N={args.n} each, interleaved, warm; "
          f"{os.cpu_count()} cores; median (min–max)")
    base = statistics.median(times["python -c pass"])
    for name, values in times.items():
        median = statistics.median(values)
        target = TARGETS_S.get(name)
        goal = "" if target is None else (f"  target < {target:.2f} s: "
                                          f"{'met' if median < target else 'NOT met'}")
        print(f"  {name:24} {median:6.3f} s ({min(values):.3f}–{max(values):.3f})  "
              f"{median / base:5.1f}× the baseline, +{median - base:.3f} s{goal}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
