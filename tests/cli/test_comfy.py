"""``comfy run`` and ``comfy status`` in process against FakeComfyUI."""
from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from studio.cli.comfy import safe_file_name
from studio.engine.comfyui.handover import read_record
from tests.cli.conftest import Cli, one_error_line
from tests.cli.local_comfyui import port_open, use_local_comfyui
from tests.conftest import WorkerProcess
from tests.engine.comfyui.helpers import TXT2IMG
from tests.fakes.comfyui_server import FakeComfyUI


@pytest.fixture
def fake() -> Iterator[FakeComfyUI]:
    with FakeComfyUI() as server:
        yield server


@pytest.fixture
def workflow(tmp_path: Path) -> Path:
    path = tmp_path / "txt2img.json"
    path.write_text(json.dumps(TXT2IMG), encoding="utf-8")
    return path


def test_run_saves_outputs_and_applies_sets(cli: Cli, fake: FakeComfyUI, workflow: Path,
                                            tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = cli("comfy", "run", str(workflow), "--url", fake.base_url, "--out", str(out),
                 "--set", "3.seed=1234", "--set", "Sampler.sampler_name=dpmpp_2m",
                 "--set", "6.text=mia, beach", "--json")
    assert result.code == 0, result.err
    sent = fake.requests("POST", "/prompt")[0].body["prompt"]
    assert (sent["3"]["inputs"]["seed"], sent["3"]["inputs"]["sampler_name"], sent["6"]["inputs"]["text"]) == (
        1234, "dpmpp_2m", "mia, beach")
    files = result.json()["files"]
    assert [Path(f["path"]).name for f in files] == ["shot_00001_.png", "shot_00002_.png"]
    assert all(Path(f["path"]).read_bytes().startswith(b"\x89PNG") for f in files)
    assert "KSampler (node 3, 'Sampler') step 4/4" in result.err
    # Settings give the default URL; text output lists the saved paths.
    assert cli("settings", "set", "comfyui.url", fake.base_url).code == 0
    again = cli("comfy", "run", str(workflow), "--out", str(out), "--set", "3.seed=5")
    assert again.code == 0, again.err
    assert [Path(p).name for p in again.out.split()] == ["shot_00003_.png", "shot_00004_.png"]


def test_run_checks_the_workflow_first_like_generate(cli: Cli, fake: FakeComfyUI, tmp_path: Path) -> None:
    graph = {**TXT2IMG, "20": {"class_type": "IPAdapterAdvanced", "inputs": {"model": ["10", 0]}}}
    graph["4"] = {**graph["4"], "inputs": {"ckpt_name": "nope.safetensors"}}
    path = tmp_path / "custom.json"
    path.write_text(json.dumps(graph), encoding="utf-8")
    refused = cli("comfy", "run", str(path), "--url", fake.base_url, "--out", str(tmp_path),
                  "--set", "10.lora_name=mia_v9.safetensors")
    assert refused.code == 2
    line = one_error_line(refused.err)  # every problem at once, in the one line generate gives
    assert line.startswith("error: 3 problems: (1) This workflow needs the custom node pack "
                           "ComfyUI_IPAdapter_plus (node IPAdapterAdvanced is not installed). ")
    assert "(2) The checkpoint 'nope.safetensors' is not in ComfyUI's checkpoints folder" in line
    assert "(3) The LoRA 'mia_v9.safetensors' is not in ComfyUI's loras folder" in line
    assert fake.requests("POST", "/prompt") == []


def test_run_reports_execution_errors_with_exit_1(cli: Cli, fake: FakeComfyUI, workflow: Path,
                                                  tmp_path: Path) -> None:
    fake.script(fail_at="8", exception_message="boom")
    failed = cli("comfy", "run", str(workflow), "--url", fake.base_url, "--out", str(tmp_path))
    assert failed.code == 1
    assert failed.err.strip().splitlines()[-1] == "error: VAEDecode (node 8) failed: RuntimeError: boom"
    assert not list(tmp_path.glob("*.png"))


def test_run_starts_the_local_comfyui_and_stops_it_when_it_ends(cli: Cli, workflow: Path, tmp_path: Path,
                                                                data_dir: Path) -> None:
    port = use_local_comfyui(cli, tmp_path)
    result = cli("comfy", "run", str(workflow), "--out", str(tmp_path / "out"), "--json")
    assert result.code == 0, result.err
    assert f"starting ComfyUI in {(tmp_path / 'ComfyUI').resolve()}" in result.err
    assert len(result.json()["files"]) == 2
    log = (data_dir / "logs" / "comfyui.log").read_text(encoding="utf-8")
    assert "starting ComfyUI" in log and log.rstrip().endswith("ComfyUI stopped (code 0).")
    assert not port_open(port)  # nothing left behind
    assert read_record(data_dir / "run") is None


def test_with_a_worker_running_the_comfyui_a_command_started_goes_to_the_worker(
        cli: Cli, workflow: Path, tmp_path: Path, data_dir: Path,
        worker_factory: Callable[[], WorkerProcess]) -> None:
    port = use_local_comfyui(cli, tmp_path)
    worker = worker_factory()
    assert cli("comfy", "run", str(workflow), "--out", str(tmp_path / "a")).code == 0
    record = read_record(data_dir / "run")
    assert record is not None and record.owner.pid == worker.proc.pid and record.comfyui.alive()
    assert port_open(port)  # still up, for the worker's jobs

    again = cli("comfy", "run", str(workflow), "--out", str(tmp_path / "b"))
    assert again.code == 0 and "starting ComfyUI" not in again.err  # the one that is up
    assert read_record(data_dir / "run") == record

    assert worker.stop() == 0  # the worker stops what it was handed
    assert not record.comfyui.alive() and not port_open(port)
    assert read_record(data_dir / "run") is None
    log = (data_dir / "logs" / "comfyui.log").read_text(encoding="utf-8")
    assert f"handed over to the worker (pid {worker.proc.pid})" in log and "ComfyUI stopped" in log


def test_usage_errors_exit_2(cli: Cli, fake: FakeComfyUI, workflow: Path, tmp_path: Path) -> None:
    ui_format = tmp_path / "ui.json"
    ui_format.write_text(json.dumps({"nodes": [], "links": [], "version": 0.4}), encoding="utf-8")
    result = cli("comfy", "run", str(ui_format), "--url", fake.base_url)
    assert result.code == 2 and "export it with 'Export (API)'" in result.err
    bad_set = cli("comfy", "run", str(workflow), "--url", fake.base_url, "--set", "99.seed=1")
    assert bad_set.code == 2 and "no node '99'" in bad_set.err
    assert cli("comfy", "run", str(tmp_path / "missing.json")).code == 2
    assert not fake.requests("POST", "/prompt")


def test_ctrl_c_interrupts_the_prompt_and_exits_130(cli: Cli, fake: FakeComfyUI, workflow: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    import studio.cli.comfy as comfy
    fake.script(hold_at="3")
    original = comfy._ProgressPrinter.__call__

    def press_ctrl_c_at_the_sampler(self, event):  # type: ignore[no-untyped-def]
        original(self, event)
        if event.kind == "executing" and event.node_id == "3":
            import os
            import signal
            os.kill(os.getpid(), signal.SIGINT)

    monkeypatch.setattr(comfy._ProgressPrinter, "__call__", press_ctrl_c_at_the_sampler)
    result = cli("comfy", "run", str(workflow), "--url", fake.base_url)
    assert result.code == 130, result.err
    assert len(fake.requests("POST", "/interrupt")) == 1 and "canceled" in result.err


def test_status(cli: Cli, fake: FakeComfyUI) -> None:
    report = cli("comfy", "status", "--url", fake.base_url, "--json")
    assert report.code == 0
    assert report.json()["comfyui_version"] == "0.3.64"
    assert report.json()["queue"] == {"running": 0, "pending": 0}
    text = cli("comfy", "status", "--url", fake.base_url).out
    assert "cpu: 17.9 GiB free of 23.5 GiB VRAM" in text  # tests/fakes/data: the real server's
    down = cli("comfy", "status", "--url", "http://127.0.0.1:9")
    assert down.code == 1 and "cannot be reached" in down.err


def test_safe_file_names() -> None:
    assert safe_file_name("../../etc/passwd") == "passwd"
    assert safe_file_name("sub\\dir\\a b:c.png") == "a b_c.png"
    assert safe_file_name("..") == "output"
