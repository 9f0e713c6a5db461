"""A real ComfyUI stand-in on 127.0.0.1: HTTP and ``/ws`` on one port, as ComfyUI 0.3.64 speaks them.

Shapes and order follow ../shared/protocols/comfyui.md and its captures: ``status`` broadcast on
every queue change; per prompt ``execution_start``, ``execution_cached``, then for each node that
runs ``progress_state``, ``executing``, ``progress`` steps, ``executed`` for output nodes;
``execution_success`` (history written just after), ``status``, and ``executing`` with ``node:
null`` last. Cached nodes (same inputs as a node run before, or scripted) send no ``executing``,
but cached output nodes still send ``executed`` with their old file names. Prompts run one at a
time, lowest ``number`` first (``front`` jumps the queue). Node definitions are a real
ComfyUI's (comfyui_nodes.py). A 400 with ``node_errors`` comes for a combo value the server does
not offer (a checkpoint or LoRA not in its folder, an unknown sampler) or a missing input image,
checked only for the nodes an output needs; a body that is not JSON gets a plain-text 500.

Tests script the next prompts with ``script(...)`` (time per prompt or node, cached nodes, order,
an error at a node, a hold until ``release()`` or an interrupt, a websocket outage) and read back
``received``. It imports nothing from ``studio``.

    with FakeComfyUI(checkpoints=["sd15.safetensors"]) as fake:
        fake.script(order=["5", "4", "3"], fail_at="3")
        ComfyClient(fake.base_url).run(graph)
"""
from __future__ import annotations

import itertools
import json
import random
import socket as socketlib
import struct
import threading
import time
import uuid
import zlib
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

from websockets.exceptions import WebSocketException
from websockets.http11 import Request
from websockets.server import ServerProtocol
from websockets.sync.connection import Connection

from tests.fakes.comfyui_nodes import REAL_OBJECT_INFO, REAL_SYSTEM_STATS, combo_errors, definitions, pack_nodes
from tests.fakes.comfyui_video import render_clip

# Output nodes the fake can run: class -> (ui key, file extension, animated, /view type).
OUTPUT_NODES = {
    "SaveImage": ("images", "png", None, "output"),
    "PreviewImage": ("images", "png", None, "temp"),
    "SaveAnimatedWEBP": ("images", "webp", True, "output"),
    "SaveAnimatedPNG": ("images", "png", True, "output"),
    "SaveWEBM": ("images", "webm", True, "output"),
    "SaveVideo": ("images", "mp4", True, "output"),
    "VHS_VideoCombine": ("gifs", "mp4", None, "output"),
}
_MAGIC = {"webp": b"RIFF\x00\x00\x00\x00WEBP", "webm": b"\x1aE\xdf\xa3", "mp4": b"\x00\x00\x00\x20ftypisom"}
_MIME = {"png": "image/png", "webp": "image/webp", "webm": "video/webm", "mp4": "video/mp4",
         "flac": "audio/flac", "jpg": "image/jpeg"}


@dataclass(frozen=True, slots=True)
class Script:
    """How the fake runs one prompt."""
    seconds: float = 0.0  # whole prompt, spread over the nodes that run
    node_seconds: dict[str, float] = field(default_factory=dict)
    order: Sequence[str] | None = None  # execution order (default: depth first from the outputs)
    cached: Sequence[str] = ()  # treated as cached on top of the real input-signature cache
    steps: dict[str, int] = field(default_factory=dict)  # progress steps (default: KSampler steps)
    fail_at: str | None = None
    exception_type: str = "RuntimeError"
    exception_message: str = "Argument #4: Padding size should be less than the corresponding input dimension\n"
    hold_at: str | None = None  # waits at this node until release() or an interrupt
    drop_socket_at: str | None = None  # closes the client's sockets; refuses new ones until done
    previews: bool = False  # a binary preview frame with each progress step
    history_lag_s: float = 0.0  # between execution_success and history being written


@dataclass(frozen=True, slots=True)
class Received:
    method: str
    path: str
    query: dict[str, str]
    body: Any  # JSON, the upload's form fields, or raw text


@dataclass(slots=True)
class _Prompt:
    number: float
    prompt_id: str
    graph: dict[str, Any]
    extra_data: dict[str, Any]
    outputs: list[str]
    script: Script
    interrupted: threading.Event = field(default_factory=threading.Event)
    released: threading.Event = field(default_factory=threading.Event)
    # Waits are measured against one clock per prompt, so the time spent sending messages is
    # absorbed and a prompt scripted to take N seconds takes N seconds, like a busy GPU would.
    deadline: float = 0.0

    def sleep(self, seconds: float) -> bool:
        """Waits until the prompt's next deadline; True when interrupted meanwhile."""
        self.deadline += seconds
        return self.interrupted.wait(max(0.0, self.deadline - time.monotonic()))

    def queue_item(self) -> list[Any]:
        return [self.number, self.prompt_id, self.graph, self.extra_data, self.outputs]


def png_bytes(width: int = 8, height: int = 8, color: tuple[int, int, int] = (200, 60, 90)) -> bytes:
    """A small but real RGB PNG."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    rows = b"".join(b"\x00" + bytes(color) * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows))
            + chunk(b"IEND", b""))


def _links(node: dict[str, Any]) -> list[str]:
    return [str(v[0]) for v in (node.get("inputs") or {}).values()
            if isinstance(v, list) and len(v) == 2 and isinstance(v[1], int)]


class FakeComfyUI:
    def __init__(self, *, checkpoints: Sequence[str] = ("sd15.safetensors", "sdxl_base.safetensors"),
                 loras: Sequence[str] = ("mia_v1.safetensors",), extra_nodes: Sequence[str] = (),
                 port: int = 0, loras_dir: Path | None = None,
                 node_specs: dict[str, Any] | None = None, custom_packs: Sequence[str] = (),
                 output_bytes: dict[str, bytes] | None = None, ffmpeg: str | None = None) -> None:
        self.ffmpeg = ffmpeg  # given: SaveVideo writes a real clip of the graph's frames and fps
        self.loras_dir = loras_dir  # like ComfyUI's models/loras: files there are listed afresh
        # Core nodes are the real server's; custom packs (e.g. VIDEO_PACKS) and node_specs add to them.
        self.node_specs = {**pack_nodes(custom_packs), **(node_specs or {})}
        self.output_bytes = dict(output_bytes or {})  # file extension -> what output files hold
        # A test's choice of a prompt's picture, by its graph (None: the default picture), e.g. a
        # face from tests/photos.py chosen by seed.
        self.picture_for: Callable[[dict[str, Any]], bytes | None] | None = None
        self.models = {"checkpoints": list(checkpoints), "loras": list(loras), "vae": [],
                       "controlnet": [], "embeddings": []}
        self.known_nodes = {*REAL_OBJECT_INFO, *extra_nodes, *self.node_specs}
        self.received: list[Received] = []
        self.files: dict[tuple[str, str, str], bytes] = {("input", "", "example.png"): png_bytes()}
        self.history: dict[str, dict[str, Any]] = {}
        # (start, end) in time.monotonic() of every prompt run, for benchmarks: the gaps are GPU idle
        self.runs: list[tuple[float, float]] = []
        self.ws_connects = 0
        self.ws_refused = 0
        self.default = Script()
        self._scripts: deque[Script] = deque()
        self._overrides: dict[str, tuple[int, bytes]] = {}
        self._pending: list[_Prompt] = []
        self._running: _Prompt | None = None
        self._current_node: str | None = None
        self._sockets: dict[str, list[Connection]] = {}
        self._outage: set[str] = set()
        self._cache: dict[str, dict[str, Any]] = {}  # node signature -> ui output ({} if none)
        self._counter = itertools.count()
        self._file_numbers: dict[tuple[str, str], int] = {}
        self._lock = threading.RLock()
        self._work = threading.Condition(self._lock)
        self._closing = False
        self._server = ThreadingHTTPServer(("127.0.0.1", port), self._handler_class())
        self._server.daemon_threads = True
        self._threads = [threading.Thread(target=self._server.serve_forever, args=(0.02,), daemon=True),
                         threading.Thread(target=self._worker, daemon=True)]
        for thread in self._threads:
            thread.start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> FakeComfyUI:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        with self._lock:
            self._closing = True
            for prompt in [*self._pending, *([self._running] if self._running else [])]:
                prompt.interrupted.set()
            self._work.notify_all()
        for sockets in list(self._sockets.values()):
            for conn in list(sockets):
                self._hang_up(conn)
        self._server.shutdown()
        self._server.server_close()
        self._threads[1].join(2)

    # Scripting ------------------------------------------------------------------------------------

    def script(self, **options: Any) -> FakeComfyUI:
        """How the next submitted prompt runs (one call per prompt, in submission order)."""
        with self._lock:
            self._scripts.append(Script(**options))
        return self

    def release(self) -> None:
        """Lets a prompt held by ``hold_at`` go on."""
        with self._lock:
            for prompt in [*self._pending, *([self._running] if self._running else [])]:
                prompt.released.set()

    def override(self, route: str, status: int, body: bytes | str) -> None:
        """Answers the next ``"GET /system_stats"``-style request with this instead."""
        self._overrides[route] = (status, body.encode() if isinstance(body, str) else body)

    def requests(self, method: str, path: str) -> list[Received]:
        return [r for r in self.received if r.method == method and r.path == path]

    @property
    def queue_ids(self) -> tuple[list[str], list[str]]:
        with self._lock:
            running = [self._running.prompt_id] if self._running else []
            return running, [p.prompt_id for p in sorted(self._pending, key=lambda p: p.number)]

    # Queue and validation -------------------------------------------------------------------------

    def _submit(self, body: Any) -> tuple[int, Any]:
        with self._lock:
            number = body.get("number") if isinstance(body, dict) else None
            counter = next(self._counter)
            if number is None:
                number = -counter if isinstance(body, dict) and body.get("front") else counter
            if not isinstance(body, dict) or not isinstance(body.get("prompt"), dict):
                return 400, _error("no_prompt", "No prompt provided", "No prompt provided")
            graph = body["prompt"]
            status, reply, outputs = self._validate(graph)
            if status != 200:
                return status, reply
            prompt_id = str(body.get("prompt_id") or uuid.uuid4())
            extra = dict(body.get("extra_data") or {})
            if body.get("client_id"):
                extra["client_id"] = body["client_id"]
            script = self._scripts.popleft() if self._scripts else self.default
            self._pending.append(_Prompt(number, prompt_id, graph, extra, outputs, script))
            self._broadcast_status()
            self._work.notify_all()
            return 200, {"prompt_id": prompt_id, "number": number, "node_errors": reply}

    def _validate(self, graph: dict[str, Any]) -> tuple[int, Any, list[str]]:
        for node_id, node in graph.items():
            if not isinstance(node, dict) or "class_type" not in node:
                return 400, _error("invalid_prompt", "Cannot execute because a node is missing the "
                                   "class_type property.", f"Node ID '#{node_id}'"), []
            if node["class_type"] not in self.known_nodes:
                return 400, _error("invalid_prompt", f"Cannot execute because node "
                                   f"{node['class_type']} does not exist.", f"Node ID '#{node_id}'"), []
        info = self._object_info()
        outputs = [n for n, node in graph.items() if info[node["class_type"]].get("output_node")]
        if not outputs:
            return 400, _error("prompt_no_outputs", "Prompt has no outputs", ""), []
        # Like ComfyUI, only what an output needs is validated; a stray node is never looked at.
        needed = set().union(*(_upstream(graph, o) for o in outputs))
        errors = {n: e for n in graph if n in needed and (e := self._node_errors(graph[n], info))}
        good = [o for o in outputs if not errors.keys() & _upstream(graph, o)]
        node_errors = {n: {"errors": e, "dependent_outputs": [o for o in outputs if n in _upstream(graph, o)],
                           "class_type": graph[n]["class_type"]} for n, e in errors.items()}
        if not good:
            body = _error("prompt_outputs_failed_validation", "Prompt outputs failed validation", "")
            return 400, {**body, "node_errors": node_errors}, []
        return 200, node_errors, good

    def _node_errors(self, node: dict[str, Any], info: dict[str, Any]) -> list[dict[str, Any]]:
        inputs = node.get("inputs") or {}
        errors = combo_errors(inputs, info[node["class_type"]])
        image = inputs.get("image")
        if node.get("class_type") == "LoadImage" and isinstance(image, str):
            subfolder, _, name = image.rpartition("/")
            if ("input", subfolder, name) not in self.files:
                errors.append({"type": "custom_validation_failed",
                               "message": "Custom validation failed for node",
                               "details": f"image - Invalid image file: {image}",
                               "extra_info": {"input_name": "image"}})
        return errors

    # Running ----------------------------------------------------------------------------------------

    def _worker(self) -> None:
        while True:
            with self._lock:
                while not self._pending and not self._closing:
                    self._work.wait()
                if self._closing:
                    return
                prompt = min(self._pending, key=lambda p: p.number)
                self._pending.remove(prompt)
                self._running = prompt
                self._broadcast_status()
            started = time.monotonic()
            try:
                self._execute(prompt)
            finally:
                with self._lock:
                    self._running = None
                    self._current_node = None
                    self.runs.append((started, time.monotonic()))

    def _execute(self, prompt: _Prompt) -> None:
        pid, graph, script = prompt.prompt_id, prompt.graph, prompt.script
        client = prompt.extra_data.get("client_id")
        messages: list[list[Any]] = []

        def send(kind: str, data: Any) -> None:
            self._send(client, kind, data)

        def note(kind: str, data: Any) -> None:  # kept for the history, and sent
            messages.append([kind, data])
            send(kind, data)
        prompt.deadline = time.monotonic()
        note("execution_start", {"prompt_id": pid, "timestamp": _ms()})
        signatures = {n: _signature(graph, n) for n in graph}
        order = [str(n) for n in script.order] if script.order else _order(graph, prompt.outputs)
        cached = [n for n in order if signatures[n] in self._cache or n in script.cached]
        note("execution_cached", {"nodes": cached, "prompt_id": pid, "timestamp": _ms()})
        to_run = [n for n in order if n not in cached]
        done: list[str] = []
        ui_outputs: dict[str, Any] = {}
        outcome = "success"
        for node_id in order:
            node = graph[node_id]
            if node_id in cached:
                if node["class_type"] in OUTPUT_NODES:  # the old files, none written
                    ui = self._cache.get(signatures[node_id]) or self._outputs(graph, node_id)
                    ui_outputs[node_id] = ui
                    send("executed", {"node": node_id, "display_node": node_id, "output": ui, "prompt_id": pid})
                continue
            outcome = self._run_node(prompt, node_id, to_run, send)
            if outcome == "success":
                ui = self._outputs(graph, node_id) if node["class_type"] in OUTPUT_NODES else {}
                self._cache[signatures[node_id]] = ui
                if ui:
                    ui_outputs[node_id] = ui
                    send("executed", {"node": node_id, "display_node": node_id, "output": ui, "prompt_id": pid})
                done.append(node_id)
                continue
            payload = {"prompt_id": pid, "node_id": node_id, "node_type": node["class_type"],
                       "executed": list(reversed(done)), "timestamp": _ms()}
            if outcome == "error":
                payload.update(exception_message=script.exception_message, exception_type=script.exception_type,
                               traceback=["Traceback (most recent call last):\n", "<exception line>\n"],
                               current_inputs={k: [v] for k, v in (node.get("inputs") or {}).items()},
                               current_outputs=[node_id, *done])
            note(f"execution_{outcome}", payload)
            break
        else:
            note("execution_success", {"prompt_id": pid, "timestamp": _ms()})
        prompt.interrupted.wait(script.history_lag_s)
        self._finish(prompt, ui_outputs, messages, outcome)

    def _run_node(self, prompt: _Prompt, node_id: str, to_run: list[str], send: Any) -> str:
        """success, error or interrupted; waits are interruptible, as ComfyUI checks between nodes
        and at progress updates."""
        pid, script, node = prompt.prompt_id, prompt.script, prompt.graph[node_id]
        if node_id == script.drop_socket_at:
            self._drop_sockets(prompt.extra_data.get("client_id"))
        with self._lock:
            self._current_node = node_id
        send("progress_state", _progress_state(pid, node_id, 0, 1, "running"))
        send("executing", {"node": node_id, "display_node": node_id, "prompt_id": pid})
        if prompt.interrupted.is_set():
            return "interrupted"
        seconds = script.node_seconds.get(node_id, script.seconds / max(1, len(to_run)))
        steps = script.steps.get(node_id, _int((node.get("inputs") or {}).get("steps"))
                                 if node["class_type"] == "KSampler" else 0)
        for step in range(1, steps + 1):
            if prompt.sleep(seconds / steps):
                return "interrupted"
            if script.previews:
                self._preview(prompt.extra_data.get("client_id"), pid, node_id)
            send("progress", {"value": step, "max": steps, "prompt_id": pid, "node": node_id})
            send("progress_state", _progress_state(pid, node_id, step, steps, "running"))
        if not steps and prompt.sleep(seconds):
            return "interrupted"
        if node_id == script.hold_at:
            while not prompt.released.wait(0.01):
                if prompt.interrupted.is_set():
                    return "interrupted"
        if node_id == script.fail_at:
            return "error"
        send("progress_state", _progress_state(pid, node_id, 1, 1, "finished"))
        return "success"

    def _finish(self, prompt: _Prompt, ui_outputs: dict[str, Any], messages: list[list[Any]],
                outcome: str) -> None:
        pid = prompt.prompt_id
        ok = outcome == "success"
        entry = {"prompt": prompt.queue_item(), "outputs": ui_outputs,
                 "status": {"status_str": "success" if ok else "error", "completed": ok, "messages": messages},
                 "meta": {n: {"node_id": n, "display_node": n, "parent_node": None, "real_node_id": n}
                          for n in ui_outputs}}
        with self._lock:
            self.history[pid] = entry
            self._running = None
            self._current_node = None
            self._broadcast_status()
            self._send(prompt.extra_data.get("client_id"), "executing", {"node": None, "prompt_id": pid})
            self._outage.discard(prompt.extra_data.get("client_id"))

    def _outputs(self, graph: dict[str, Any], node_id: str) -> dict[str, Any]:
        """Writes this output node's files and returns its ui dict, as ComfyUI's nodes do."""
        node = graph[node_id]
        key, ext, animated, kind = OUTPUT_NODES[node["class_type"]]
        inputs = node.get("inputs") or {}
        # A batch comes from an empty latent's batch_size or a RepeatLatentBatch's amount (frames).
        batch = max([1, *(_int((graph[n].get("inputs") or {}).get("batch_size")
                               or (graph[n].get("inputs") or {}).get("amount")) for n in _upstream(graph, node_id))])
        default = "video/ComfyUI" if node["class_type"] == "SaveVideo" else "ComfyUI"
        prefix = str(inputs.get("filename_prefix") or default)
        if kind == "temp":
            prefix = "ComfyUI_temp_" + "".join(random.choices("abcdefghijklmnopqrstuvwxyz", k=5))
        subfolder, _, base = prefix.rpartition("/")
        items = []
        for _ in range(1 if animated else batch):
            with self._lock:
                number = self._file_numbers.get((subfolder, base), 0) + 1
                self._file_numbers[(subfolder, base)] = number
            name = f"{base}_{number:05}_.{ext}"
            clip = render_clip(self.ffmpeg, [graph[n] for n in _upstream(graph, node_id)]) if (
                self.ffmpeg and node["class_type"] == "SaveVideo" and ext not in self.output_bytes) else None
            chosen = self.picture_for(graph) if self.picture_for is not None and ext == "png" else None
            self.files[(kind, subfolder, name)] = chosen or self.output_bytes.get(ext) or clip or (
                png_bytes(color=(number * 40 % 256, 90, 160)) if ext == "png" else _MAGIC[ext] + bytes(64))
            items.append({"filename": name, "subfolder": subfolder, "type": kind})
        return {key: items, "animated": [True]} if animated else {key: items}

    # Websocket --------------------------------------------------------------------------------------

    def _send(self, client_id: str | None, kind: str, data: dict[str, Any]) -> None:
        text = json.dumps({"type": kind, "data": data})
        for conn in list(self._sockets.get(client_id or "", [])):
            try:
                conn.send(text)
            except (OSError, WebSocketException):
                pass  # that socket is going away

    def _broadcast_status(self) -> None:
        remaining = len(self._pending) + (1 if self._running else 0)
        for client_id in list(self._sockets):
            self._send(client_id, "status", {"status": {"exec_info": {"queue_remaining": remaining}}})

    def _preview(self, client_id: str | None, prompt_id: str, node_id: str) -> None:
        meta = json.dumps({"node_id": node_id, "prompt_id": prompt_id, "display_node_id": node_id,
                           "parent_node_id": None, "real_node_id": node_id, "image_type": "image/png"}).encode()
        frame = struct.pack(">II", 4, len(meta)) + meta + png_bytes(4, 4)
        for conn in list(self._sockets.get(client_id or "", [])):
            try:
                conn.send(frame)
            except (OSError, WebSocketException):
                pass

    def _drop_sockets(self, client_id: str | None) -> None:
        with self._lock:
            self._outage.add(client_id or "")
            sockets = list(self._sockets.get(client_id or "", []))
        for conn in sockets:
            self._hang_up(conn)

    @staticmethod
    def _hang_up(conn: Connection) -> None:
        try:
            conn.socket.shutdown(socketlib.SHUT_RDWR)  # abrupt, like a dropped network
        except OSError:
            pass

    def _serve_socket(self, handler: BaseHTTPRequestHandler, client_id: str) -> None:
        protocol = ServerProtocol()
        headers = b"".join(f"{k}: {v}\r\n".encode() for k, v in handler.headers.items())
        raw = getattr(handler, "raw_requestline", b"") + headers  # set by the server; not in the stubs
        protocol.receive_data(raw + b"\r\n")
        request = protocol.events_received()[0]
        assert isinstance(request, Request)
        with self._lock:
            refused = client_id in self._outage
        response = protocol.reject(503, "ComfyUI is busy\n") if refused else protocol.accept(request)
        protocol.send_response(response)
        handler.connection.sendall(b"".join(protocol.data_to_send()))
        if refused:
            self.ws_refused += 1
            return
        conn = Connection(handler.connection, protocol, ping_interval=None, close_timeout=0.5)
        with self._lock:
            self.ws_connects += 1
            self._sockets.setdefault(client_id, []).append(conn)
            remaining = len(self._pending) + (1 if self._running else 0)
            conn.send(json.dumps({"type": "status", "data": {
                "status": {"exec_info": {"queue_remaining": remaining}}, "sid": client_id}}))
            running = self._running
            if running and running.extra_data.get("client_id") == client_id and self._current_node:
                conn.send(json.dumps({"type": "executing", "data": {"node": self._current_node}}))
        try:
            for message in conn:
                self._feature_flags(conn, message)
        except (OSError, WebSocketException):
            pass
        finally:
            with self._lock:
                self._sockets.get(client_id, []).remove(conn)

    @staticmethod
    def _feature_flags(conn: Connection, message: str | bytes) -> None:
        try:
            data = json.loads(message)
        except ValueError:
            return
        if isinstance(data, dict) and data.get("type") == "feature_flags":
            conn.send(json.dumps({"type": "feature_flags", "data": {
                "supports_preview_metadata": True, "max_upload_size": 104857600}}))

    # HTTP ---------------------------------------------------------------------------------------------

    def _get(self, path: str, query: dict[str, str]) -> tuple[int, Any]:
        if path == "/system_stats":
            return 200, REAL_SYSTEM_STATS
        if path == "/object_info":
            return 200, self._object_info()
        if path.startswith("/object_info/"):
            name = path.removeprefix("/object_info/")
            info = self._object_info(only=name)
            return 200, {name: info[name]} if name in info else {}
        if path == "/queue":
            with self._lock:
                return 200, {"queue_running": [self._running.queue_item()] if self._running else [],
                             "queue_pending": [p.queue_item() for p in self._pending]}
        if path == "/prompt":
            with self._lock:
                return 200, {"exec_info": {"queue_remaining": len(self._pending) + bool(self._running)}}
        if path == "/history":
            return 200, dict(self.history)
        if path.startswith("/history/"):
            pid = path.removeprefix("/history/")
            return 200, {pid: self.history[pid]} if pid in self.history else {}
        if path == "/models":
            return 200, list(self.models)
        if path.startswith("/models/"):
            folder = path.removeprefix("/models/")
            if folder == "loras":
                return 200, self._loras()
            return (200, self.models[folder]) if folder in self.models else (404, b"")
        if path == "/embeddings":
            return 200, []
        if path == "/features":
            return 200, {"supports_preview_metadata": True, "max_upload_size": 104857600}
        return 404, b""

    def _post(self, path: str, body: Any) -> tuple[int, Any]:
        if path == "/prompt":
            return self._submit(body)
        if path == "/interrupt":
            target = body.get("prompt_id") if isinstance(body, dict) else None
            with self._lock:
                if self._running and target in (None, self._running.prompt_id):
                    self._running.interrupted.set()
            return 200, b""
        if path == "/queue":
            with self._lock:
                doomed = set(body.get("delete") or []) if isinstance(body, dict) else set()
                if isinstance(body, dict) and body.get("clear"):
                    doomed = {p.prompt_id for p in self._pending}
                self._pending = [p for p in self._pending if p.prompt_id not in doomed]
                self._broadcast_status()
            return 200, b""
        if path == "/free":
            self._cache.clear() if isinstance(body, dict) and body.get("free_memory") else None
            return 200, b""
        if path == "/history":
            for pid in body.get("delete") or [] if isinstance(body, dict) else []:
                self.history.pop(pid, None)
            if isinstance(body, dict) and body.get("clear"):
                self.history.clear()
            return 200, b""
        return 404, b""

    def _upload(self, form: dict[str, Any]) -> tuple[int, Any]:
        if "image" not in form:
            return 400, b""
        name, data = form["image"]
        kind, subfolder = form.get("type") or "input", form.get("subfolder") or ""
        overwrite = form.get("overwrite") in ("true", "1")
        stem, dot, ext = name.rpartition(".")
        number = 0
        while not overwrite and self.files.get((kind, subfolder, name), data) != data:
            number += 1  # same name, other bytes: ComfyUI picks "name (1).png"
            name = f"{stem} ({number}).{ext}" if dot else f"{ext} ({number})"
        self.files[(kind, subfolder, name)] = data
        return 200, {"name": name, "subfolder": subfolder, "type": kind}

    def _view(self, query: dict[str, str]) -> tuple[int, Any, str]:
        name, kind, subfolder = query.get("filename", ""), query.get("type", "output"), query.get("subfolder", "")
        if not name:
            return 404, b"", ""
        if ".." in name or name.startswith("/") or kind not in ("output", "input", "temp"):
            return 400, b"", ""
        if ".." in subfolder.split("/") or subfolder.startswith("/"):
            return 403, b"", ""
        data = self.files.get((kind, subfolder, name))
        if data is None:
            return 404, b"", ""
        return 200, data, _MIME.get(name.rpartition(".")[2], "application/octet-stream")

    def _loras(self) -> list[str]:
        found = sorted(p.name for p in self.loras_dir.glob("*.safetensors")) if self.loras_dir else []
        return [*self.models["loras"], *(n for n in found if n not in self.models["loras"])]

    def _object_info(self, only: str | None = None) -> dict[str, Any]:
        # The real definitions with this fake's folders listed; a known node without a definition
        # (extra_nodes) is stubbed without inputs or outputs. ``only``: that node type alone.
        folders = {**self.models, "loras": self._loras()}
        top_level = [name for kind, subfolder, name in self.files if kind == "input" and not subfolder]
        info = definitions(folders=folders, input_files=top_level, extra=self.node_specs, only=only)
        known = self.known_nodes if only is None else self.known_nodes & {only}
        for name in sorted(known - info.keys()):
            info[name] = {"input": {"required": {}}, "input_order": {"required": []}, "output": [],
                          "name": name, "display_name": name, "category": "fake",
                          "output_node": name in OUTPUT_NODES, "python_module": "nodes"}
        return info

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # aiohttp, ComfyUI's server, sets TCP_NODELAY; without it headers and body go out in two
            # segments and the client's delayed ACK adds 40 ms to every small response.
            disable_nagle_algorithm = True

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                path, query = self._route()
                fake.received.append(Received("GET", path, query, None))
                if path == "/ws" and self.headers.get("Upgrade", "").lower() == "websocket":
                    self.close_connection = True
                    return fake._serve_socket(self, query.get("clientId") or uuid.uuid4().hex)
                if self._overridden("GET", path):
                    return None
                if path == "/view":
                    status, data, mime = fake._view(query)
                    headers = {"Content-Disposition": f'filename="{query.get("filename")}"'} if data else {}
                    return self._send(status, data, mime or "text/plain", headers)
                status, payload = fake._get(path, query)
                return self._reply(status, payload)

            def do_POST(self) -> None:
                path, query = self._route()
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if path == "/upload/image":
                    form = _multipart(self.headers.get("Content-Type", ""), raw)
                    fake.received.append(Received("POST", path, query, {
                        k: v if isinstance(v, str) else v[0] for k, v in form.items()}))
                    return self._reply(*fake._upload(form))
                try:
                    body: Any = json.loads(raw) if raw else {}
                except ValueError:
                    body = raw.decode("utf-8", "replace")
                fake.received.append(Received("POST", path, query, body))
                if self._overridden("POST", path):
                    return None
                if isinstance(body, str) and path == "/prompt":
                    return self._send(500, b"500 Internal Server Error\n\nServer got itself in trouble",
                                      "text/plain; charset=utf-8")
                return self._reply(*fake._post(path, body))

            def _route(self) -> tuple[str, dict[str, str]]:
                url = urlparse(self.path)
                path = url.path.removeprefix("/api") if url.path.startswith("/api/") else url.path
                return path, {k: v[-1] for k, v in parse_qs(url.query, keep_blank_values=True).items()}

            def _overridden(self, method: str, path: str) -> bool:
                override = fake._overrides.pop(f"{method} {path}", None)
                if override is not None:
                    self._send(override[0], override[1], "application/json")
                return override is not None

            def _reply(self, status: int, payload: Any) -> None:
                if isinstance(payload, bytes):
                    return self._send(status, payload, "text/plain; charset=utf-8")
                return self._send(status, json.dumps(payload).encode(), "application/json; charset=utf-8")

            def _send(self, status: int, data: bytes, mime: str, headers: dict[str, str] | None = None) -> None:
                self.send_response(status)
                self.send_header("Content-Type", mime)
                self.send_header("Content-Length", str(len(data)))
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                try:
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        return Handler


def _multipart(content_type: str, raw: bytes) -> dict[str, Any]:
    """Form fields as strings; file parts as (file name, bytes)."""
    message = BytesParser(policy=HTTP).parsebytes(f"Content-Type: {content_type}\r\n\r\n".encode() + raw)
    form: dict[str, Any] = {}
    for part in message.iter_parts() if message.is_multipart() else []:
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        filename = part.get_filename()
        form[str(name)] = (filename, data) if filename else data.decode()
    return form


def _error(kind: str, message: str, details: str) -> dict[str, Any]:
    return {"error": {"type": kind, "message": message, "details": details, "extra_info": {}}, "node_errors": {}}


def _upstream(graph: dict[str, Any], node_id: str) -> set[str]:
    seen: set[str] = set()
    stack = [node_id]
    while stack:
        current = stack.pop()
        if current in seen or current not in graph:
            continue
        seen.add(current)
        stack += _links(graph[current])
    return seen


def _order(graph: dict[str, Any], outputs: list[str]) -> list[str]:
    """Depth first from each output node: inputs before the node, which is not node-id order."""
    order: list[str] = []

    def visit(node_id: str) -> None:
        if node_id in order or node_id not in graph:
            return
        for source in _links(graph[node_id]):
            visit(source)
        order.append(node_id)

    for output in sorted(outputs, key=lambda n: (len(n), n)):
        visit(output)
    return order


def _signature(graph: dict[str, Any], node_id: str) -> str:
    """The node's class and inputs with links replaced by their source's signature (the cache key)."""
    node = graph[node_id]
    inputs = {k: (_signature(graph, str(v[0])) + f"#{v[1]}"
                  if isinstance(v, list) and len(v) == 2 and isinstance(v[1], int) and str(v[0]) in graph else v)
              for k, v in sorted((node.get("inputs") or {}).items())}
    return json.dumps([node.get("class_type"), inputs], sort_keys=True, default=str)


def _progress_state(prompt_id: str, node_id: str, value: float, maximum: float, state: str) -> dict[str, Any]:
    return {"prompt_id": prompt_id, "nodes": {node_id: {
        "value": value, "max": maximum, "state": state, "node_id": node_id, "prompt_id": prompt_id,
        "display_node_id": node_id, "parent_node_id": None, "real_node_id": node_id}}}


def _ms() -> int:
    return int(time.time() * 1000)


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0
