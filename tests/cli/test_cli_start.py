"""The command line starts without the engine: `--version`, `--help` and every verb's `--help`
load none of the heavy libraries, and a read verb (`workspace list`) of a solo studio reads its
SQLite file with the standard library alone (db/quick_read.py), so the start-up gain
(bench/cli_start.py) cannot slip back."""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT

# What reading a solo studio's workspaces does not need: SQLAlchemy and the models (sqlite3 reads
# them), migrations (the database is at its newest), the keyring (nothing printed holds a stored
# secret), the queues and the job service.
NOT_FOR_READING = ("sqlalchemy", "alembic", "keyring", "huey", "redis", "psycopg", "httpx", "boto3",
                   "cattrs", "PySide6", "numpy", "cv2", "PIL")
HEAVY = ("sqlalchemy", "alembic", "huey", "redis", "httpx", "boto3", "cattrs", "keyring", "PySide6",
         "numpy", "cv2", "PIL")

# Runs the program the way `python -m studio ARGS` does, or through the installed entry point
# (`studio.__main__:main`), then reports its output and which heavy modules it loaded.
PROBE = """
import contextlib, io, json, runpy, sys
argv, how, watched = json.loads(sys.argv[1]), sys.argv[2], json.loads(sys.argv[3])
out = io.StringIO()
with contextlib.redirect_stdout(out):
    if how == "module":
        sys.argv = ["influencerai-studio", *argv]
        try:
            runpy.run_module("studio", run_name="__main__", alter_sys=True)
            code = 0
        except SystemExit as exc:
            code = exc.code
    else:
        from studio.__main__ import main
        code = main(argv)
heavy = [name for name in watched if name in sys.modules]
print(json.dumps({"code": code, "out": out.getvalue(), "heavy": heavy}))
"""

# Every verb group's and every action's --help, in one process.
ALL_HELPS = """
import argparse, contextlib, io, json, sys
from studio.cli.main import build_parser, main

def choices(parser):
    found = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return found[0].choices if found else {}

codes = {}
for verb, verb_parser in choices(build_parser()).items():
    for argv in ([verb, "--help"], *([verb, action, "--help"] for action in choices(verb_parser))):
        with contextlib.redirect_stdout(io.StringIO()) as out:
            codes[" ".join(argv)] = (main(argv), "usage:" in out.getvalue())
heavy = [name for name in json.loads(sys.argv[1]) if name in sys.modules]
print(json.dumps({"codes": codes, "heavy": heavy}))
"""


def _probe(*argv: str, how: str, watched: tuple[str, ...] = HEAVY,
           env: dict[str, str] | None = None) -> dict[str, object]:
    done = subprocess.run([sys.executable, "-c", PROBE, json.dumps(argv), how, json.dumps(watched)],
                          capture_output=True, text=True, cwd=ROOT, timeout=60, check=True, env=env)
    result: dict[str, object] = json.loads(done.stdout)
    return result


def test_version_loads_no_heavy_module() -> None:
    from studio import __version__

    for how in ("module", "entry_point"):
        result = _probe("--version", how=how)
        assert result == {"code": 0, "out": f"influencerai-studio {__version__}\n", "heavy": []}, how


def test_help_lists_every_verb_and_loads_no_heavy_module() -> None:
    from studio.cli.main import build_parser

    verbs = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    for how in ("module", "entry_point"):
        result = _probe("--help", how=how)
        assert result["code"] == 0 and result["heavy"] == [], how
        shown = " ".join(str(result["out"]).split())
        for choice in verbs._choices_actions:
            assert f"{choice.dest} {' '.join(str(choice.help).split())}" in shown


def test_every_verb_help_works_without_heavy_modules() -> None:
    done = subprocess.run([sys.executable, "-c", ALL_HELPS, json.dumps(HEAVY)],
                          capture_output=True, text=True, cwd=ROOT, timeout=60, check=True)
    result = json.loads(done.stdout)
    assert result["heavy"] == []
    assert len(result["codes"]) > 60  # every group and every action of each
    assert {argv: (code, usage) for argv, (code, usage) in result["codes"].items()
            if (code, usage) != (0, True)} == {}
    assert "workspace list --help" in result["codes"]


def test_workspace_list_of_a_solo_studio_loads_no_sqlalchemy_keyring_or_queues(tmp_path: Path) -> None:
    env = {**os.environ, "INFLUENCERAI_DATA_DIR": str(tmp_path / "data"),
           "INFLUENCERAI_CONFIG_DIR": str(tmp_path / "config")}
    created = _probe("workspace", "create", "Main", how="module", watched=(), env=env)
    assert created["code"] == 0  # a new data folder: this run migrated it

    result = _probe("workspace", "list", "--json", how="module", watched=NOT_FOR_READING, env=env)
    assert result["code"] == 0 and result["heavy"] == []
    rows = json.loads(str(result["out"]))
    assert [(r["name"], r["current"]) for r in rows] == [("Main", True)]


def test_workspace_list_of_a_new_data_folder_goes_the_full_way(tmp_path: Path) -> None:
    env = {**os.environ, "INFLUENCERAI_DATA_DIR": str(tmp_path / "data"),
           "INFLUENCERAI_CONFIG_DIR": str(tmp_path / "config")}
    result = _probe("workspace", "list", "--json", how="module", watched=("sqlalchemy",), env=env)
    assert result == {"code": 0, "out": "[]\n", "heavy": ["sqlalchemy"]}  # it made the database
    assert (tmp_path / "data" / "studio.sqlite3").stat().st_size > 0
