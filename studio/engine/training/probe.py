"""What sd-scripts' own Python says about it: torch and accelerate versions, the first module it
lacks, and every option each training script's parser accepts.

``resources/probes/sdscripts_probe.py`` runs in that Python (an argument list, no shell, with a
timeout) and calls each script's own ``setup_parser()``. Importing torch and sd-scripts takes
seconds, so an answer is kept in memory and in the cache folder, valid while the Python, the
probe, the scripts, sd-scripts' ``library/*.py`` and that Python's site-packages folders keep
their modification times and sizes (installing a package changes its site-packages folder).
"""
from __future__ import annotations

import hashlib
import json
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from studio.engine.fsutil import atomic_write_text
from studio.engine.training.command import SCRIPTS, Launch
from studio.resources import resource_path

PROBE_SCRIPT = resource_path("probes", "sdscripts_probe.py")
TIMEOUT_S = 120.0  # a cold import of torch, diffusers and transformers from a slow disk
CACHE_FOLDER = "sdscripts-probe"

Stamps = dict[str, list[int] | None]
_memo: dict[str, dict[str, Any]] = {}  # key → {"stamps": …, "result": …}, like the files


@dataclass(frozen=True, slots=True)
class ScriptOption:
    name: str
    takes_value: bool  # False for store_true / store_false flags
    nargs: str | int | None = None
    choices: tuple[str, ...] | None = None  # as text, the way a command line gives them
    type_name: str | None = None  # "int", "float", "str", … or None
    const: bool | str | int | float | None = None  # what a flag stores (True for store_true)


@dataclass(frozen=True, slots=True)
class ScriptReport:
    options: tuple[ScriptOption, ...] = ()
    missing_module: str = ""
    error: str = ""


@dataclass(frozen=True, slots=True)
class Probe:
    python: str
    ran: bool  # False: no answer at all (reason says why)
    reason: str = ""
    versions: dict[str, str] = field(default_factory=dict)
    missing_module: str = ""
    error: str = ""
    scripts: dict[str, ScriptReport] = field(default_factory=dict)
    seconds: float = 0.0
    cached: bool = False

    def problem(self, script: str) -> str:
        """Why ``script`` cannot start in this Python, one line; "" when it can."""
        if not self.ran:
            return self.reason
        missing = self.missing(script)
        if missing:
            return f"the Python for sd-scripts ({self.python}) has no module '{missing}'"
        return self.error or self.scripts.get(script, ScriptReport()).error

    def missing(self, script: str) -> str:
        """The first module that Python lacks for ``script``; "" when none is missing."""
        return self.missing_module or self.scripts.get(script, ScriptReport()).missing_module

    def options(self, script: str) -> dict[str, ScriptOption] | None:
        """Every option ``script``'s parser accepts, by name; None when the probe could not ask."""
        report = self.scripts.get(script)
        if report is None or self.problem(script):
            return None
        return {option.name: option for option in report.options}


def probe_sdscripts(launch: Launch, cache_dir: Path | None, *, cached_only: bool = False,
                    timeout_s: float = TIMEOUT_S) -> Probe | None:
    """The probe's answer for this checkout and Python, from the cache when nothing changed;
    with ``cached_only`` None instead of running it (for a status bar that refreshes often)."""
    key = _key(launch)
    entry = _memo.get(key) or _read(cache_dir, key)
    if entry is not None and _stamps(list(entry["stamps"])) == entry["stamps"]:
        _memo[key] = entry
        return _parse(launch.python, entry["result"], seconds=0.0, cached=True)
    if cached_only:
        return None
    started = time.monotonic()
    raw = _run(launch, timeout_s)
    seconds = time.monotonic() - started
    if isinstance(raw, str):
        return Probe(python=launch.python, ran=False, reason=raw, seconds=seconds)
    site_dirs = [str(p) for p in raw.get("site_dirs") or []]
    entry = {"stamps": _stamps([*_watched(launch), *site_dirs]), "result": raw}
    _memo[key] = entry
    _write(cache_dir, key, entry)
    return _parse(launch.python, raw, seconds=seconds, cached=False)


def _run(launch: Launch, timeout_s: float) -> dict[str, Any] | str:
    """The probe's JSON, or why there is none (one line)."""
    python = launch.python
    if not launch.folder.is_dir():
        return f"the sd-scripts folder {launch.folder} does not exist"
    try:
        done = subprocess.run([python, str(PROBE_SCRIPT), str(launch.folder), *SCRIPTS.values()],
                              cwd=launch.folder, stdin=subprocess.DEVNULL, capture_output=True,
                              text=True, errors="replace", timeout=timeout_s, check=False)
    except subprocess.TimeoutExpired:
        return f"the Python for sd-scripts ({python}) did not answer within {timeout_s:g} s"
    except OSError as exc:
        return f"the Python for sd-scripts ({python}) cannot be started: {exc.strerror or exc}"
    lines = [line for line in done.stdout.splitlines() if line.strip()]
    try:
        raw = json.loads(lines[-1]) if lines else None
    except ValueError:
        raw = None
    if not isinstance(raw, dict):
        last = [line for line in done.stderr.splitlines() if line.strip()][-1:] or [f"exit {done.returncode}"]
        return f"the Python for sd-scripts ({python}) could not run the probe: {last[0].strip()}"
    return raw


def _parse(python: str, raw: dict[str, Any], *, seconds: float, cached: bool) -> Probe:
    scripts = {}
    for name, report in (raw.get("scripts") or {}).items():
        options = tuple(_option(o) for o in report.get("options") or [])
        scripts[str(name)] = ScriptReport(options=options, missing_module=str(report.get("missing_module") or ""),
                                          error=str(report.get("error") or ""))
    return Probe(python=python, ran=True, versions={str(k): str(v) for k, v in (raw.get("versions") or {}).items()},
                 missing_module=str(raw.get("missing_module") or ""), error=str(raw.get("error") or ""),
                 scripts=scripts, seconds=seconds, cached=cached)


def _option(raw: dict[str, Any]) -> ScriptOption:
    choices = raw.get("choices")
    const = raw.get("const")
    return ScriptOption(
        name=str(raw["name"]), takes_value=bool(raw.get("takes_value", True)), nargs=raw.get("nargs"),
        choices=None if choices is None else tuple(str(c) for c in choices if c is not None),
        type_name=raw.get("type"), const=const if isinstance(const, bool | str | int | float) else None)


# The cache -----------------------------------------------------------------------------------

def _key(launch: Launch) -> str:
    return hashlib.sha256(f"{launch.python}\n{launch.folder}".encode()).hexdigest()[:24]


def _watched(launch: Launch) -> list[str]:
    folder = launch.folder
    # The folders too: a module added to or removed from them changes their modification time.
    files = [PROBE_SCRIPT, Path(launch.python), folder, folder / "library",
             *(folder / s for s in SCRIPTS.values()), *sorted((folder / "library").glob("*.py"))]
    return [str(path) for path in files]


def _stamps(paths: list[str]) -> Stamps:
    """Modification time and size of each path (None when it is not there)."""
    found: Stamps = {}
    for path in paths:
        try:
            stat = Path(path).stat()
        except OSError:
            found[path] = None
            continue
        found[path] = [stat.st_mtime_ns, stat.st_size]
    return found


def _read(cache_dir: Path | None, key: str) -> dict[str, Any] | None:
    if cache_dir is None:
        return None
    try:
        entry = json.loads((cache_dir / CACHE_FOLDER / f"{key}.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    ok = isinstance(entry, dict) and isinstance(entry.get("stamps"), dict) and isinstance(entry.get("result"), dict)
    return entry if ok else None


def _write(cache_dir: Path | None, key: str, entry: dict[str, Any]) -> None:
    if cache_dir is None:
        return
    try:
        (cache_dir / CACHE_FOLDER).mkdir(parents=True, exist_ok=True)
        atomic_write_text(cache_dir / CACHE_FOLDER / f"{key}.json", json.dumps(entry))
    except OSError:
        pass  # a cache that cannot be written only costs the next probe its seconds
