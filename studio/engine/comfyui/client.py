"""ComfyUI's HTTP + websocket API: submit API-format graphs, follow them, fetch their outputs.

The recipe follows ../shared/protocols/comfyui.md §8: open ``/ws?clientId=…`` first and send the
same id with ``POST /prompt`` (otherwise no execution frames arrive); the prompt is finished on
``executing`` with ``node: null`` (``execution_success`` comes before history is written); then
``/history/<id>`` holds the outputs. A dropped socket is reopened with back-off while /history is
polled, so a prompt that ends during the outage is still collected.

Errors are job errors: unreachable, timed out, dropped, HTTP 429/5xx or malformed JSON →
``ComfyUnavailable`` (retried); a 400 from /prompt → ``ComfyRejected`` naming node and input;
an ``execution_error`` → ``ComfyExecutionError``; an interrupt → ``ComfyInterrupted`` (canceled).
"""
from __future__ import annotations

import json
import mimetypes
import ssl
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import httpx
from websockets.exceptions import WebSocketException
from websockets.sync.client import ClientConnection, connect

from studio.engine.comfyui.errors import ComfyExecutionError, ComfyInterrupted, ComfyRejected, ComfyUnavailable
from studio.engine.comfyui.follower import Follower
from studio.engine.comfyui.messages import (
    NodeError,
    OutputFile,
    ProgressEvent,
    PromptTracker,
    execution_error_text,
    history_message,
    node_errors_of,
    one_line,
    outputs_of,
    rejection_text,
)
from studio.engine.errors import InvalidInput
from studio.engine.tls import tls_context

__all__ = ["ComfyClient", "ComfyExecutionError", "ComfyInterrupted", "ComfyRejected", "ComfyUnavailable",
           "PromptResult", "QueueState", "SubmitResult", "UploadedImage", "check_api_format", "combo_options"]

RECONNECT_DELAYS = (0.25, 0.5, 1.0, 2.0, 4.0)


@dataclass(frozen=True, slots=True)
class SubmitResult:
    prompt_id: str
    number: float
    node_errors: tuple[NodeError, ...] = ()  # a 200 with errors: those outputs were dropped


@dataclass(frozen=True, slots=True)
class UploadedImage:
    name: str
    subfolder: str
    type: str

    @property
    def reference(self) -> str:
        """What LoadImage's ``image`` input takes."""
        return f"{self.subfolder}/{self.name}" if self.subfolder else self.name


@dataclass(frozen=True, slots=True)
class QueueState:
    running: tuple[str, ...]
    pending: tuple[str, ...]  # in the order ComfyUI will run them


@dataclass(frozen=True, slots=True)
class PromptResult:
    prompt_id: str
    outputs: dict[str, list[OutputFile]]
    cached_nodes: tuple[str, ...] = ()
    timings: dict[str, float] = field(default_factory=dict)
    comfyui_version: str | None = None
    node_errors: tuple[NodeError, ...] = ()

    def files(self) -> list[OutputFile]:
        return [f for files in self.outputs.values() for f in files]


def combo_options(object_info: dict[str, Any], node_class: str, input_name: str) -> list[str]:
    """Choices of a combo input in either shape, ``[[a, b], {…}]`` or ``["COMBO", {"options":
    [a, b]}]``; empty when the class or input is unknown or not a combo."""
    inputs = (object_info.get(node_class) or {}).get("input") or {}
    for section in ("required", "optional"):
        spec = (inputs.get(section) or {}).get(input_name)
        if isinstance(spec, list) and spec:
            if isinstance(spec[0], list):
                return [str(o) for o in spec[0]]
            if spec[0] == "COMBO" and len(spec) > 1 and isinstance(spec[1], dict):
                return [str(o) for o in spec[1].get("options") or []]
    return []


def check_api_format(graph: Any) -> dict[str, Any]:
    """The graph when it is in API format; a workflow saved by the UI is refused with a hint."""
    if isinstance(graph, dict) and "nodes" in graph and "links" in graph:
        raise InvalidInput("This is a UI workflow, not the API format: export it with "
                           "'Export (API)' in ComfyUI.")
    if not isinstance(graph, dict) or not graph or not all(
            isinstance(n, dict) and "class_type" in n for n in graph.values()):
        raise InvalidInput("Not an API-format ComfyUI workflow (expected {node id: {class_type, "
                           "inputs}}); export it with 'Export (API)' in ComfyUI.")
    return graph


class ComfyClient:
    def __init__(self, base_url: str, *, client_id: str | None = None, timeout: float = 30,
                 transport: httpx.BaseTransport | None = None,
                 reconnect_delays: Sequence[float] = RECONNECT_DELAYS) -> None:
        self.base_url = base_url.rstrip("/")
        self.client_id = client_id or uuid.uuid4().hex
        self.timeout = timeout
        self.reconnect_delays = tuple(reconnect_delays)
        self._http = httpx.Client(timeout=timeout, transport=transport, verify=_tls_for(self.base_url))
        self._version: str | None = None

    def __repr__(self) -> str:
        return f"ComfyClient({self.base_url!r})"

    def __enter__(self) -> ComfyClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    @property
    def ws_url(self) -> str:
        url = urlparse(self.base_url)
        scheme = "wss" if url.scheme == "https" else "ws"
        return f"{scheme}://{url.netloc}{url.path}/ws?clientId={self.client_id}"

    # Reading ------------------------------------------------------------------------------------

    def system_stats(self) -> dict[str, Any]:
        return self._object("GET", "/system_stats")

    def version(self) -> str | None:
        if self._version is None:
            self._version = str(self.system_stats().get("system", {}).get("comfyui_version") or "")
        return self._version or None

    def object_info(self, node_class: str | None = None) -> dict[str, Any]:
        return self._object("GET", f"/object_info/{node_class}" if node_class else "/object_info")

    def models(self, folder: str) -> list[str]:
        return [str(name) for name in self._json("GET", f"/models/{folder}")]

    def queue(self) -> QueueState:
        data = self._object("GET", "/queue")
        running = [item for item in data.get("queue_running") or [] if len(item) > 1]
        pending = sorted((item for item in data.get("queue_pending") or [] if len(item) > 1),
                         key=lambda item: item[0])  # lower number runs first
        return QueueState(tuple(str(i[1]) for i in running), tuple(str(i[1]) for i in pending))

    def history(self, prompt_id: str) -> dict[str, Any] | None:
        """The history entry of a finished prompt; None while it is queued, running or unknown."""
        entry = self._object("GET", f"/history/{prompt_id}").get(prompt_id)
        return entry if isinstance(entry, dict) else None

    def view(self, filename: str, subfolder: str = "", type: str = "output") -> bytes:
        params = {"filename": filename, "subfolder": subfolder, "type": type}
        try:
            return self._call("GET", "/view", params=params).content
        except ComfyRejected as exc:
            if exc.status != 404:
                raise
            where = f"{subfolder}/{filename}" if subfolder else filename
            raise ComfyRejected(f"ComfyUI at {self.base_url} has no {type} file '{where}'.",
                                status=404) from None

    def download(self, file: OutputFile) -> bytes:
        return self.view(file.filename, file.subfolder, file.type)

    # Changing ----------------------------------------------------------------------------------

    def submit(self, graph: dict[str, Any], *, front: bool = False,
               extra_data: dict[str, Any] | None = None, prompt_id: str | None = None) -> SubmitResult:
        body: dict[str, Any] = {"prompt": check_api_format(graph), "client_id": self.client_id}
        if front:
            body["front"] = True
        if extra_data:
            body["extra_data"] = extra_data
        if prompt_id:
            body["prompt_id"] = prompt_id
        response = self._call("POST", "/prompt", json=body, refusal=False)
        data = self._decode(response, "POST /prompt")
        errors = node_errors_of(data.get("node_errors"), graph)
        if response.status_code >= 400:
            error = data.get("error") if isinstance(data.get("error"), dict) else {}
            raise ComfyRejected(f"ComfyUI refused the workflow: {rejection_text(data, errors)}",
                                status=response.status_code, error_type=str(error.get("type") or ""),
                                node_errors=errors)
        if not data.get("prompt_id"):
            raise ComfyUnavailable(f"ComfyUI at {self.base_url} answered POST /prompt without a "
                                   f"prompt_id.")
        return SubmitResult(str(data["prompt_id"]), data.get("number") or 0, errors)

    def upload_image(self, image: str | Path | bytes, name: str | None = None, *, subfolder: str = "",
                     overwrite: bool = False, type: str = "input") -> UploadedImage:
        """Puts a file into ComfyUI's input folder; ``reference`` is what LoadImage takes."""
        data = image if isinstance(image, bytes) else Path(image).read_bytes()
        name = name or (Path(image).name if not isinstance(image, bytes) else "image.png")
        mime = mimetypes.guess_type(name)[0] or "application/octet-stream"
        form = {"subfolder": subfolder, "type": type, "overwrite": "true" if overwrite else "false"}
        reply = self._object("POST", "/upload/image", files={"image": (name, data, mime)}, data=form)
        return UploadedImage(str(reply.get("name") or name), str(reply.get("subfolder") or ""),
                             str(reply.get("type") or type))

    def interrupt(self, prompt_id: str | None = None) -> None:
        """Stops the running prompt (only that one when ``prompt_id`` is given)."""
        self._call("POST", "/interrupt", json={"prompt_id": prompt_id} if prompt_id else {})

    def delete_queued(self, prompt_ids: Sequence[str]) -> None:
        self._call("POST", "/queue", json={"delete": list(prompt_ids)})

    def free(self, unload_models: bool = True, free_memory: bool = True) -> None:
        self._call("POST", "/free", json={"unload_models": unload_models, "free_memory": free_memory})

    # Following a prompt --------------------------------------------------------------------------

    def run(self, graph: dict[str, Any], *, on_event: Callable[[ProgressEvent], None] | None = None,
            cancel: Callable[[], bool] | None = None, timeout_s: float | None = None,
            front: bool = False, extra_data: dict[str, Any] | None = None) -> PromptResult:
        """Submits ``graph`` and waits for its outcome; outputs are listed, not downloaded."""
        check_api_format(graph)
        started = time.monotonic()
        socket = self.open_socket()
        try:
            submitted = self.submit(graph, front=front, extra_data=extra_data)
        except BaseException:
            socket.close()
            raise
        self._version_or_none()  # asked while the prompt runs, not after it (the result names it)
        follower = Follower(self, PromptTracker(submitted.prompt_id, graph), socket, on_event=on_event,
                            cancel=cancel, deadline=started + timeout_s if timeout_s else None)
        entry = follower.wait()
        return self._result(follower.tracker, entry, submitted, time.monotonic() - started)

    def open_socket(self) -> ClientConnection:
        try:
            # __enter__ opens it on every websockets version (17.1+ warns on plain connect());
            # the follower closes it.
            socket = connect(self.ws_url, open_timeout=self.timeout, close_timeout=1,
                             max_size=None).__enter__()
            # Previews then carry their prompt and node (event 4); older servers ignore this.
            socket.send(json.dumps({"type": "feature_flags",
                                    "data": {"supports_preview_metadata": True}}))
            self._await_status(socket)
        except (OSError, TimeoutError, WebSocketException) as exc:
            raise ComfyUnavailable(f"ComfyUI at {self.base_url} cannot be reached over its "
                                   f"websocket: {one_line(str(exc)) or type(exc).__name__}.") from exc
        return socket

    def _await_status(self, socket: ClientConnection) -> None:
        """ComfyUI greets a new socket with a ``status`` frame carrying our id once it has
        registered it; a prompt posted before that may run with nobody listening."""
        deadline = time.monotonic() + self.timeout
        while True:
            frame = socket.recv(timeout=max(0.0, deadline - time.monotonic()))
            if isinstance(frame, str):
                try:
                    message = json.loads(frame)
                except ValueError:
                    continue
                if isinstance(message, dict) and message.get("type") == "status":
                    return

    def _result(self, tracker: PromptTracker, entry: dict[str, Any], submitted: SubmitResult,
                total_s: float) -> PromptResult:
        error = tracker.error or history_message(entry, "execution_error")
        if error:
            raise ComfyExecutionError(execution_error_text(error, tracker.graph), error)
        interrupted = tracker.interrupted or history_message(entry, "execution_interrupted")
        if interrupted:
            raise ComfyInterrupted(f"ComfyUI interrupted the prompt at "
                                   f"{interrupted.get('node_type') or 'a node'} "
                                   f"(node {interrupted.get('node_id')}).")
        status = entry.get("status") or {}
        if status.get("status_str") == "error":
            raise ComfyExecutionError(f"ComfyUI reported an error for prompt {tracker.prompt_id}.")
        cached = history_message(entry, "execution_cached") or {}
        return PromptResult(tracker.prompt_id, outputs_of(entry.get("outputs") or tracker.outputs),
                            tuple(str(n) for n in cached.get("nodes") or tracker.cached),
                            _timings(entry, total_s), self._version_or_none(), submitted.node_errors)

    def _version_or_none(self) -> str | None:
        try:
            return self.version()
        except (ComfyUnavailable, ComfyRejected):
            return None

    # HTTP --------------------------------------------------------------------------------------

    def _json(self, method: str, path: str, **options: Any) -> Any:
        return self._decode(self._call(method, path, **options), f"{method} {path}")

    def _object(self, method: str, path: str, **options: Any) -> dict[str, Any]:
        data = self._json(method, path, **options)
        if not isinstance(data, dict):
            raise ComfyUnavailable(f"ComfyUI at {self.base_url} answered {method} {path} with "
                                   f"{type(data).__name__}, not a JSON object.")
        return data

    def _call(self, method: str, path: str, *, refusal: bool = True, **options: Any) -> httpx.Response:
        what = f"{method} {path}"
        try:
            response = self._http.request(method, f"{self.base_url}{path}", **options)
        except httpx.TimeoutException as exc:
            raise ComfyUnavailable(f"ComfyUI at {self.base_url} did not answer {what} in time.") from exc
        except httpx.TransportError as exc:
            reason = one_line(str(exc)) or type(exc).__name__
            raise ComfyUnavailable(f"ComfyUI at {self.base_url} cannot be reached: {reason}.") from exc
        status = response.status_code
        if status == 429 or status >= 500:
            raise ComfyUnavailable(f"ComfyUI at {self.base_url} failed on {what} (HTTP {status}"
                                   f"{_snippet(response)}).")
        if status >= 400 and refusal:
            raise ComfyRejected(f"ComfyUI at {self.base_url} refused {what} (HTTP {status}"
                                f"{_snippet(response)}).", status=status)
        return response

    def _decode(self, response: httpx.Response, what: str) -> Any:
        try:
            return response.json()
        except ValueError:
            raise ComfyUnavailable(f"ComfyUI at {self.base_url} sent malformed JSON for {what}"
                                   f"{_snippet(response)}.") from None


def _tls_for(base_url: str) -> ssl.SSLContext:
    """The shared verifying context for https; for plain http, which never uses TLS, one that
    trusts nothing, so a local ComfyUI is reached without reading the CA bundle (35 ms a
    process) and a redirect to https could never go unverified."""
    if urlparse(base_url).scheme == "https":
        return tls_context()
    return ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)


def _snippet(response: httpx.Response) -> str:
    text = one_line(response.text)[:80]
    return f": '{text}'" if text else ""


def _timings(entry: dict[str, Any], total_s: float) -> dict[str, float]:
    """Seconds: ``execution`` by ComfyUI's own clock, ``total`` as the studio waited, and the
    difference as ``waiting`` (queue, transfer)."""
    start = history_message(entry, "execution_start") or {}
    end = (history_message(entry, "execution_success") or history_message(entry, "execution_error")
           or history_message(entry, "execution_interrupted") or {})
    timings = {"total": round(total_s, 3)}
    if isinstance(start.get("timestamp"), int) and isinstance(end.get("timestamp"), int):
        execution = max(0.0, (end["timestamp"] - start["timestamp"]) / 1000)
        timings["execution"] = round(execution, 3)
        timings["waiting"] = round(max(0.0, total_s - execution), 3)
    return timings
