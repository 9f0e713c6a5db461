"""ComfyClient against FakeComfyUI, a real HTTP + websocket server speaking ComfyUI 0.3.64's protocol."""
from __future__ import annotations

import copy
import io
import socket
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from PIL import Image

from studio.engine.comfyui.client import (
    ComfyClient,
    ComfyExecutionError,
    ComfyInterrupted,
    ComfyRejected,
    ComfyUnavailable,
    ProgressEvent,
    combo_options,
)
from studio.engine.errors import InvalidInput
from studio.engine.jobs.errors import JobCanceled, JobFailed, TransientError
from tests.engine.comfyui.helpers import TXT2IMG
from tests.fakes.comfyui_server import FakeComfyUI


def graph(**seed: int) -> dict[str, Any]:
    g = copy.deepcopy(TXT2IMG)
    g["3"]["inputs"]["seed"] = seed.get("seed", 42)
    return g


@pytest.fixture
def fake() -> Iterator[FakeComfyUI]:
    with FakeComfyUI() as server:
        yield server


@pytest.fixture
def client(fake: FakeComfyUI) -> Iterator[ComfyClient]:
    with ComfyClient(fake.base_url, timeout=5, reconnect_delays=(0.05, 0.1, 0.2, 0.4)) as c:
        yield c


def test_success_collects_outputs_after_executing_null(fake: FakeComfyUI, client: ComfyClient) -> None:
    # History is written 50 ms after execution_success: reading it then would find nothing.
    fake.script(history_lag_s=0.05)
    events: list[ProgressEvent] = []
    result = client.run(graph(), on_event=events.append, timeout_s=10)
    files = result.files()
    assert [(f.node_id, f.filename, f.subfolder, f.type) for f in files] == [
        ("9", "shot_00001_.png", "mia", "output"), ("9", "shot_00002_.png", "mia", "output")]
    image = Image.open(io.BytesIO(client.download(files[0])))
    assert image.format == "PNG" and image.size == (8, 8)
    assert result.comfyui_version == "0.3.64" and result.cached_nodes == ()
    assert {"total", "execution", "waiting"} <= result.timings.keys()
    # The socket was opened before the prompt was posted, with the same client id.
    ws, post = fake.requests("GET", "/ws")[0], fake.requests("POST", "/prompt")[0]
    assert fake.received.index(ws) < fake.received.index(post)
    assert ws.query["clientId"] == post.body["client_id"] == client.client_id
    steps = [(e.value, e.max) for e in events if e.kind == "progress"]
    assert steps == [(1, 4), (2, 4), (3, 4), (4, 4)]
    sampler = next(e for e in events if e.kind == "executing" and e.node_id == "3")
    assert (sampler.class_type, sampler.title, sampler.label) == ("KSampler", "Sampler", "Sampler")
    fractions = [e.fraction for e in events]
    assert fractions == sorted(fractions) and events[-1].kind == "done" and fractions[-1] == 1.0


def test_cached_nodes_and_out_of_order_execution(fake: FakeComfyUI, client: ComfyClient) -> None:
    first = client.run(graph())
    order = ["5", "4", "10", "7", "6", "3", "8", "9"]
    fake.script(order=order)
    events: list[ProgressEvent] = []
    # Only the seed changed: the loaders, prompts and latent are served from ComfyUI's cache.
    second = client.run(graph(seed=7), on_event=events.append)
    assert set(second.cached_nodes) == {"4", "10", "6", "7", "5"}
    assert [e.node_id for e in events if e.kind == "executing"] == ["3", "8", "9"]
    assert second.files()[0].filename == "shot_00003_.png"
    fake.script(order=order)
    events.clear()
    # An identical resubmission: everything cached, no executing, yet executed with the old names.
    third = client.run(graph(seed=7), on_event=events.append)
    assert set(third.cached_nodes) == set(TXT2IMG)
    assert not [e for e in events if e.kind == "executing"]
    assert [e.node_id for e in events if e.kind == "executed"] == ["9"]
    assert third.outputs == second.outputs != first.outputs


def test_execution_error_names_node_and_exception(fake: FakeComfyUI, client: ComfyClient) -> None:
    fake.script(fail_at="3", exception_type="torch.OutOfMemoryError",
                exception_message="CUDA out of memory. Tried to allocate 2.00 GiB")
    with pytest.raises(ComfyExecutionError) as caught:
        client.run(graph())
    assert isinstance(caught.value, JobFailed) and caught.value.node_id == "3"
    assert str(caught.value) == ("KSampler (node 3, 'Sampler') failed: torch.OutOfMemoryError: "
                                 "CUDA out of memory. Tried to allocate 2.00 GiB")


def test_cancel_interrupts_the_running_prompt(fake: FakeComfyUI, client: ComfyClient) -> None:
    fake.script(hold_at="3")
    at_sampler = threading.Event()

    def seen(event: ProgressEvent) -> None:
        if event.kind == "executing" and event.node_id == "3":
            at_sampler.set()

    with pytest.raises(ComfyInterrupted) as caught:
        client.run(graph(), on_event=seen, cancel=at_sampler.is_set, timeout_s=10)
    assert isinstance(caught.value, JobCanceled)
    assert "KSampler (node 3)" in str(caught.value)
    prompt_id = next(iter(fake.history))
    assert [r.body for r in fake.requests("POST", "/interrupt")] == [{"prompt_id": prompt_id}]
    assert fake.history[prompt_id]["status"]["status_str"] == "error"


def test_cancel_deletes_a_queued_prompt(fake: FakeComfyUI, client: ComfyClient) -> None:
    fake.script(hold_at="3")
    blocker = client.submit(graph(seed=1))
    with pytest.raises(ComfyInterrupted, match="removed from ComfyUI's queue"):
        client.run(graph(seed=2), cancel=lambda: True, timeout_s=10)
    deleted = fake.requests("POST", "/queue")[0].body["delete"]
    assert fake.queue_ids == ([blocker.prompt_id], [])
    assert deleted != [blocker.prompt_id] and not fake.requests("POST", "/interrupt")
    fake.release()


def test_front_jumps_the_queue(fake: FakeComfyUI, client: ComfyClient) -> None:
    fake.script(hold_at="3")
    client.submit(graph(seed=1))
    later = client.submit(graph(seed=2))
    first = client.submit(graph(seed=3), front=True)
    assert first.number < 0 and client.queue().pending == (first.prompt_id, later.prompt_id)
    fake.release()


def test_prompt_finishing_while_the_socket_is_down_is_recovered(fake: FakeComfyUI,
                                                                client: ComfyClient) -> None:
    # At the sampler the server drops the socket and refuses new ones until the prompt is done.
    fake.script(drop_socket_at="3", node_seconds={"3": 0.15, "8": 0.05})
    events: list[ProgressEvent] = []
    result = client.run(graph(), on_event=events.append, timeout_s=10)
    assert [f.filename for f in result.files()] == ["shot_00001_.png", "shot_00002_.png"]
    assert any(e.kind == "reconnecting" for e in events)
    assert fake.ws_refused >= 1 and len(fake.requests("GET", f"/history/{result.prompt_id}")) >= 2


def test_rejection_names_node_and_input(fake: FakeComfyUI, client: ComfyClient) -> None:
    bad = graph()
    bad["4"]["inputs"]["ckpt_name"] = "missing.safetensors"
    bad["4"]["_meta"] = {"title": "Base model"}
    with pytest.raises(ComfyRejected) as caught:
        client.run(bad)
    assert str(caught.value) == (
        "ComfyUI refused the workflow: CheckpointLoaderSimple (node 4, 'Base model') input "
        "ckpt_name: Value not in list: 'missing.safetensors' not in ['sd15.safetensors', "
        "'sdxl_base.safetensors']")
    assert caught.value.error_type == "prompt_outputs_failed_validation"
    assert [(e.node_id, e.input_name) for e in caught.value.node_errors] == [("4", "ckpt_name")]


def test_long_model_lists_are_shortened() -> None:
    # ComfyUI lists up to 20 options in full (past that it says only "(list of length N)").
    names = [f"model_{i:03}.safetensors" for i in range(20)]
    with FakeComfyUI(checkpoints=names) as fake, ComfyClient(fake.base_url) as client:
        bad = graph()
        bad["4"]["inputs"]["ckpt_name"] = "x.safetensors"
        with pytest.raises(ComfyRejected) as caught:
            client.submit(bad)
    assert str(caught.value).endswith("'model_004.safetensors', … 15 more]")
    assert len(str(caught.value)) < 300


def test_past_twenty_models_comfyui_gives_only_the_count() -> None:
    names = [f"model_{i:03}.safetensors" for i in range(200)]
    with FakeComfyUI(checkpoints=names) as fake, ComfyClient(fake.base_url) as client:
        bad = graph()
        bad["4"]["inputs"]["ckpt_name"] = "x.safetensors"
        with pytest.raises(ComfyRejected) as caught:
            client.submit(bad)
    assert str(caught.value).endswith("ckpt_name: Value not in list: 'x.safetensors' not in "
                                      "(list of length 200)")


def test_200_with_node_errors_is_reported(fake: FakeComfyUI, client: ComfyClient) -> None:
    mixed = graph()
    mixed["20"] = {"class_type": "LoadImage", "inputs": {"image": "nope.png"}}
    mixed["21"] = {"class_type": "SaveImage", "inputs": {"images": ["20", 0], "filename_prefix": "x"}}
    result = client.run(mixed)
    assert [e.text() for e in result.node_errors] == [
        "LoadImage (node 20) input image: Custom validation failed for node: Invalid image file: nope.png"]
    assert list(result.outputs) == ["9"]


def test_connection_refused_is_unavailable() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens here once closed
    with ComfyClient(f"http://127.0.0.1:{port}", timeout=2) as client:
        with pytest.raises(ComfyUnavailable, match=f"127.0.0.1:{port}") as caught:
            client.system_stats()
        assert isinstance(caught.value, TransientError)
        with pytest.raises(ComfyUnavailable, match="websocket"):
            client.run(graph())


def test_malformed_json_and_5xx_are_unavailable(fake: FakeComfyUI, client: ComfyClient) -> None:
    fake.override("GET /system_stats", 200, "<html>proxy error</html>")
    with pytest.raises(ComfyUnavailable, match="malformed JSON for GET /system_stats: '<html>proxy"):
        client.system_stats()
    fake.override("GET /queue", 502, "Bad Gateway")
    with pytest.raises(ComfyUnavailable, match="HTTP 502"):
        client.queue()
    response = httpx.post(f"{fake.base_url}/prompt", content=b"{not json")
    assert (response.status_code, response.headers["content-type"].split(";")[0]) == (500, "text/plain")


def test_ui_format_is_refused_before_sending(client: ComfyClient, fake: FakeComfyUI) -> None:
    with pytest.raises(InvalidInput, match="Export \\(API\\)"):
        client.submit({"nodes": [], "links": [], "version": 0.4})
    assert not fake.requests("POST", "/prompt")


def test_upload_then_load_and_view(fake: FakeComfyUI, client: ComfyClient) -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (16, 12), "red").save(buffer, "PNG")
    uploaded = client.upload_image(buffer.getvalue(), "pose.png", subfolder="job1")
    assert (uploaded.name, uploaded.subfolder, uploaded.type, uploaded.reference) == (
        "pose.png", "job1", "input", "job1/pose.png")
    other = client.upload_image(b"other bytes", "pose.png", subfolder="job1")
    assert other.name == "pose (1).png"  # same name, other bytes: ComfyUI keeps both
    assert client.upload_image(b"other bytes", "pose.png", subfolder="job1", overwrite=True).name == "pose.png"
    # Like ComfyUI's LoadImage, the list holds the input folder's own images, not subfolders'.
    assert client.upload_image(buffer.getvalue(), "top.png").reference == "top.png"
    assert combo_options(client.object_info("LoadImage"), "LoadImage", "image") == [
        "example.png", "top.png"]
    flow = {"1": {"class_type": "LoadImage", "inputs": {"image": uploaded.reference}},
            "2": {"class_type": "ImageInvert", "inputs": {"image": ["1", 0]}},
            "3": {"class_type": "PreviewImage", "inputs": {"images": ["2", 0]}}}
    preview = client.run(flow).files()[0]
    assert preview.type == "temp" and preview.filename.startswith("ComfyUI_temp_")
    assert client.view(preview.filename, preview.subfolder, "temp").startswith(b"\x89PNG")
    assert client.view("pose.png", "job1", "input") == b"other bytes"
    with pytest.raises(ComfyRejected, match="has no output file 'nope.png'"):
        client.view("nope.png")


def test_combo_options_in_both_shapes(client: ComfyClient) -> None:
    info = client.object_info()
    assert combo_options(info, "KSampler", "sampler_name")[:3] == ["euler", "euler_cfg_pp", "euler_ancestral"]
    assert combo_options(info, "SaveWEBM", "codec") == ["vp9", "av1"]
    assert combo_options(info, "CheckpointLoaderSimple", "ckpt_name") == [
        "sd15.safetensors", "sdxl_base.safetensors"]
    assert combo_options(info, "KSampler", "steps") == [] == combo_options(info, "NoSuchNode", "x")


def test_queue_models_interrupt_free_and_stats(fake: FakeComfyUI, client: ComfyClient) -> None:
    assert client.models("loras") == ["mia_v1.safetensors"]
    with pytest.raises(ComfyRejected, match="HTTP 404"):
        client.models("nope")
    assert client.queue().running == () and client.system_stats()["devices"][0]["name"] == "cpu"
    client.interrupt()
    client.free()
    client.delete_queued(["x"])
    assert [r.body for r in fake.received if r.method == "POST"] == [
        {}, {"unload_models": True, "free_memory": True}, {"delete": ["x"]}]
