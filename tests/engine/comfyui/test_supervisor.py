"""The ComfyUI supervisor against a stand-in main.py that serves FakeComfyUI on the given port."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from studio.engine.comfyui.client import ComfyClient
from studio.engine.comfyui.handover import ComfyRecord, read_record, write_record
from studio.engine.comfyui.processes import ProcessStamp
from studio.engine.comfyui.supervisor import ComfyStartFailed, ComfySupervisor
from studio.engine.config import Settings, load_settings, save_settings
from studio.engine.errors import InvalidInput, StudioError
from tests.engine.comfyui.helpers import comfy_folder, run_next, submit
from tests.servers import free_port

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="process groups are POSIX here")

def make_settings(folder: Path, extra_args: str = "") -> Settings:
    settings = Settings()
    settings.comfyui.folder = str(folder)
    settings.comfyui.port = free_port()
    settings.comfyui.extra_args = extra_args
    return settings


@pytest.fixture
def supervisors() -> Iterator[list[ComfySupervisor]]:
    made: list[ComfySupervisor] = []
    yield made
    for supervisor in made:
        supervisor.stop(grace_s=1)


def supervisor_for(made: list[ComfySupervisor], settings: Settings, logs: Path) -> ComfySupervisor:
    supervisor = ComfySupervisor(settings, logs)
    made.append(supervisor)
    return supervisor


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        return state not in ("Z", "X")
    except (FileNotFoundError, IndexError):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return True


def test_start_answers_logs_and_stops(tmp_path: Path, supervisors: list[ComfySupervisor]) -> None:
    settings = make_settings(comfy_folder(tmp_path), extra_args="--lowvram --preview-method 'auto'")
    sup = supervisor_for(supervisors, settings, tmp_path / "logs")
    port = settings.comfyui.port
    assert sup.url == f"http://127.0.0.1:{port}"
    assert sup.command() == [sys.executable, str((tmp_path / "ComfyUI").resolve() / "main.py"),
                             "--listen", "127.0.0.1", "--port", str(port),
                             "--lowvram", "--preview-method", "auto"]
    assert not sup.running()

    sup.start(timeout_s=30)
    assert sup.running()
    with ComfyClient(sup.url) as client:
        assert "system" in client.system_stats()
    tail = "\n".join(sup.log_tail())
    assert "starting ComfyUI" in tail
    assert f"To see the GUI go to: http://127.0.0.1:{port}" in tail
    assert "Extra arguments: --lowvram --preview-method auto" in tail
    sup.start()  # already running: nothing happens
    sup.ensure_running()
    assert sup.restarts == 0

    sup.stop(grace_s=5)
    assert not sup.running()
    assert not sup.answers(timeout_s=0.5)
    assert "Stopped server" in "\n".join(sup.log_tail(5))  # SIGTERM let it shut down cleanly
    sup.stop()  # a second stop is a no-op


def test_ensure_running_restarts_after_kill_9(tmp_path: Path, supervisors: list[ComfySupervisor]) -> None:
    sup = supervisor_for(supervisors, make_settings(comfy_folder(tmp_path)), tmp_path / "logs")
    sup.ensure_running(timeout_s=30)  # not running yet: starts it
    first = sup.pid
    assert first is not None and sup.answers()
    os.kill(first, signal.SIGKILL)
    deadline = time.monotonic() + 5
    while sup.running() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not sup.running()

    sup.ensure_running(timeout_s=30)
    assert sup.running() and sup.pid != first
    assert sup.restarts == 1
    assert sup.answers()
    assert any("exited unexpectedly" in line and "restarting" in line for line in sup.log_tail())


def test_main_that_exits_at_once_gives_its_last_log_lines(tmp_path: Path,
                                                          supervisors: list[ComfySupervisor]) -> None:
    script = ("import sys\n"
              "for i in range(15):\n"
              "    print(f'line {i}')\n"
              "print('ModuleNotFoundError: No module named torch', file=sys.stderr)\n"
              "sys.exit(3)\n")
    sup = supervisor_for(supervisors, make_settings(comfy_folder(tmp_path, script)), tmp_path / "logs")
    started = time.monotonic()
    with pytest.raises(ComfyStartFailed) as err:
        sup.start(timeout_s=30)
    assert time.monotonic() - started < 10
    message = str(err.value)
    assert isinstance(err.value, StudioError)
    assert message.startswith("ComfyUI exited with code 3 while starting.")
    assert "No module named torch" in message and "line 14" in message
    assert "line 2\n" not in message  # only the last lines
    assert str(tmp_path / "logs" / "comfyui.log") in message
    assert not sup.running()


def test_stop_kills_the_whole_process_group(tmp_path: Path, supervisors: list[ComfySupervisor]) -> None:
    settings = make_settings(comfy_folder(tmp_path), extra_args="--spawn-child --ignore-sigterm")
    sup = supervisor_for(supervisors, settings, tmp_path / "logs")
    sup.start(timeout_s=30)
    leader = sup.pid
    assert leader is not None
    child = next(int(line.split()[-1]) for line in sup.log_tail() if line.startswith("child pid"))
    assert os.getpgid(child) == leader  # its own group, led by main.py
    assert os.getpgid(leader) != os.getpgid(0)

    started = time.monotonic()
    sup.stop(grace_s=1)  # SIGTERM is ignored by main.py: SIGKILL after the grace period
    assert 0.9 < time.monotonic() - started < 5
    assert not alive(leader)
    deadline = time.monotonic() + 5
    while alive(child) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not alive(child)


def test_missing_folder_or_main_py_is_invalid_input(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    sup = ComfySupervisor(make_settings(missing), tmp_path / "logs")
    with pytest.raises(InvalidInput) as err:
        sup.start()
    assert str(missing) in str(err.value) and "\n" not in str(err.value)

    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(InvalidInput, match="has no main.py") as err:
        ComfySupervisor(make_settings(empty), tmp_path / "logs").command()
    assert str(empty) in str(err.value) and "\n" not in str(err.value)
    assert not (tmp_path / "logs" / "comfyui.log").exists()


def test_python_and_url_choices(tmp_path: Path) -> None:
    folder = comfy_folder(tmp_path)
    settings = make_settings(folder)
    assert ComfySupervisor(settings, tmp_path).python() == sys.executable
    venv_python = folder / ".venv" / "bin" / "python"
    venv_python.parent.mkdir(parents=True)
    venv_python.write_text("")
    assert ComfySupervisor(settings, tmp_path).python() == str(venv_python.resolve())
    settings.comfyui.python = "/opt/py/bin/python3"
    assert ComfySupervisor(settings, tmp_path).command()[0] == "/opt/py/bin/python3"

    settings.comfyui.listen, settings.comfyui.port = "0.0.0.0", 8190
    assert ComfySupervisor(settings, tmp_path).url == "http://127.0.0.1:8190"
    assert ComfySupervisor(settings, tmp_path).command()[2:6] == ["--listen", "0.0.0.0", "--port", "8190"]
    settings.comfyui.listen = "192.168.1.5"
    assert ComfySupervisor(settings, tmp_path).url == "http://192.168.1.5:8190"
    settings.comfyui.extra_args = "--bad 'quote"
    with pytest.raises(InvalidInput, match="extra_args"):
        ComfySupervisor(settings, tmp_path).command()
    assert ComfySupervisor(settings, tmp_path).log_tail() == []


def test_new_comfyui_settings_round_trip(tmp_path: Path) -> None:
    defaults = Settings().comfyui
    assert (defaults.folder, defaults.python, defaults.listen, defaults.port, defaults.extra_args,
            defaults.autostart) == ("", "", "127.0.0.1", 8188, "", False)
    assert not ComfySupervisor.configured(Settings())
    settings = Settings()
    settings.set("comfyui.folder", "/opt/ComfyUI")
    settings.set("comfyui.python", "/opt/ComfyUI/venv/bin/python")
    settings.set("comfyui.listen", "0.0.0.0")
    settings.set("comfyui.port", "8190")
    settings.set("comfyui.extra_args", "--lowvram --preview-method auto")
    settings.set("comfyui.autostart", "yes")
    path = tmp_path / "settings.toml"
    save_settings(settings, path)
    loaded = load_settings(path).comfyui
    assert (loaded.folder, loaded.python, loaded.listen, loaded.port, loaded.extra_args,
            loaded.autostart) == ("/opt/ComfyUI", "/opt/ComfyUI/venv/bin/python", "0.0.0.0", 8190,
                                  "--lowvram --preview-method auto", True)
    assert ComfySupervisor.configured(load_settings(path))


def test_a_generation_job_starts_the_local_comfyui_and_the_worker_stops_it(
        studio, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    """With comfyui.folder set, submitting starts ComfyUI, the job talks to it, and stop_all ends it."""
    from studio.engine.comfyui import supervisor as supervision
    folder = comfy_folder(tmp_path)
    studio.settings.comfyui.folder = str(folder)
    studio.settings.comfyui.port = free_port()
    studio.settings.comfyui.url = "http://127.0.0.1:9"  # not used while a folder is set
    try:
        [job] = submit(studio)  # ensure_running() before the check against /object_info
        supervisor = supervision.supervisor_for(studio.settings, studio.paths.logs_dir)
        assert supervisor is not None and supervisor.running()
        assert supervision.comfy_url(studio.settings) == supervisor.url
        run_next(studio)
        done = studio.jobs.get(job.workspace_id, job.id)
        assert done.status == "completed", done.error
        assert done.payload["comfyui_url"] == supervisor.url
        assert "Starting server" in "".join(supervisor.log_tail())
    finally:
        supervision.stop_all(grace_s=2)
    assert not supervisor.running()


@pytest.fixture
def bystander() -> Iterator[subprocess.Popen[bytes]]:
    """A live process that is neither this test nor ComfyUI, to stand for another owner."""
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    yield proc
    proc.kill()
    proc.wait()


def raw_log(sup: ComfySupervisor) -> str:
    return sup.log_file.read_bytes().decode()


def test_the_record_names_comfyui_and_its_owner_and_goes_when_it_stops(
        tmp_path: Path, supervisors: list[ComfySupervisor]) -> None:
    sup = supervisor_for(supervisors, make_settings(comfy_folder(tmp_path)), tmp_path / "logs")
    assert sup.run_dir == tmp_path / "run"
    sup.start(timeout_s=30)
    record = read_record(tmp_path / "run")
    assert record is not None and sup.pid is not None
    assert record.comfyui == ProcessStamp.of(sup.pid) and record.owner == ProcessStamp.current()
    assert (record.url, record.folder) == (sup.url, str(tmp_path / "ComfyUI"))
    sup.stop(grace_s=5)
    assert read_record(tmp_path / "run") is None


def test_released_to_an_heir_it_runs_on_and_only_the_heir_or_a_successor_stops_it(
        tmp_path: Path, supervisors: list[ComfySupervisor], bystander: subprocess.Popen[bytes]) -> None:
    settings = make_settings(comfy_folder(tmp_path))
    first = supervisor_for(supervisors, settings, tmp_path / "logs")
    first.start(timeout_s=30)
    pid = first.pid
    assert pid is not None
    heir = ProcessStamp.of(bystander.pid)
    first.release(heir)
    assert not first.running() and first.answers()  # left running for the heir
    record = read_record(tmp_path / "run")
    assert record is not None and record.owner == heir and record.comfyui.pid == pid
    assert f"ComfyUI (pid {pid}) handed over to the worker (pid {bystander.pid})" in raw_log(first)

    other = supervisor_for(supervisors, settings, tmp_path / "logs")
    other.ensure_running()  # the heir lives: used as it is, neither restarted nor taken
    other.stop(grace_s=2)
    assert other.pid is None and first.answers()

    bystander.kill()
    bystander.wait()
    successor = supervisor_for(supervisors, settings, tmp_path / "logs")
    successor.ensure_running()  # its owner has gone: taken over, not started again
    assert successor.pid == pid and successor.restarts == 0
    assert f"taken over by pid {os.getpid()}" in raw_log(successor)
    successor.stop(grace_s=5)
    assert not alive(pid) and not successor.answers(timeout_s=0.5)
    assert read_record(tmp_path / "run") is None


def test_release_without_an_heir_stops_it(tmp_path: Path, supervisors: list[ComfySupervisor]) -> None:
    sup = supervisor_for(supervisors, make_settings(comfy_folder(tmp_path)), tmp_path / "logs")
    sup.start(timeout_s=30)
    pid = sup.pid
    assert pid is not None
    sup.release(None)
    assert not alive(pid) and read_record(tmp_path / "run") is None
    assert "ComfyUI stopped (code 0)." in raw_log(sup)


def test_a_reused_pid_is_not_taken_for_the_recorded_comfyui(
        tmp_path: Path, bystander: subprocess.Popen[bytes]) -> None:
    settings = make_settings(comfy_folder(tmp_path))
    sup = ComfySupervisor(settings, tmp_path / "logs")
    live = ProcessStamp.of(bystander.pid)
    assert live is not None and live.alive()
    reused = ProcessStamp(bystander.pid, "1")  # same number, another start time: not ComfyUI
    write_record(tmp_path / "run", ComfyRecord(comfyui=reused, owner=reused, url=sup.url,
                                               folder=str(settings.comfyui.folder), started_at="x"))
    assert not reused.alive()
    assert not sup.adopt()
    sup.stop(grace_s=1)
    assert bystander.poll() is None  # never signalled
    assert read_record(tmp_path / "run") is None  # the stale record is dropped


def test_the_supervisors_notes_start_on_a_line_of_their_own_after_a_progress_bar(
        tmp_path: Path, supervisors: list[ComfySupervisor]) -> None:
    settings = make_settings(comfy_folder(tmp_path), extra_args="--progress-bar")
    sup = supervisor_for(supervisors, settings, tmp_path / "logs")
    sup.start(timeout_s=30)
    first = sup.pid
    assert first is not None
    wait_for_log(sup, "1/2 [00:01")
    os.kill(first, signal.SIGKILL)  # dies with half a line written: the bar, no newline
    wait_for(lambda: not sup.running())
    sup.ensure_running(timeout_s=30)
    sup.stop(grace_s=5)  # its last words are a bar again
    text = raw_log(sup)
    assert "\r 50%|#####     | 1/2 [00:01<00:01,  1.00it/s]\n--- " in text
    assert "\r100%|##########| 2/2 [00:02<00:00,  1.00it/s]\n--- " in text
    notes = [line for line in text.split("\n") if "--- " in line]
    assert len(notes) == 4 and all(line.startswith("--- ") for line in notes), notes
    assert ["starting ComfyUI" in notes[0], "exited unexpectedly" in notes[1],
            "starting ComfyUI" in notes[2], "ComfyUI stopped" in notes[3]] == [True] * 4


def wait_for(condition: Callable[[], bool], timeout_s: float = 10) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def wait_for_log(sup: ComfySupervisor, text: str) -> None:
    wait_for(lambda: sup.log_file.exists() and text in raw_log(sup))
