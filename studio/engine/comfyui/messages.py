"""What ComfyUI says about one prompt: /ws frames turned into progress, /history and error bodies
turned into typed values and one-line messages.

Shapes follow ../shared/protocols/comfyui.md (ComfyUI 0.3.64): the prompt ends with ``executing``
whose ``node`` is null; cached nodes send no ``executing`` but cached output nodes still send
``executed``; outputs are lists of ``{filename, subfolder, type}`` under any key of a node's ui
dict; binary frames are previews (event 1: ``[u32 1][u32 image type][bytes]``, event 4: ``[u32 4]
[u32 meta length][meta JSON][bytes]``).
"""
from __future__ import annotations

import ast
import json
import struct
from dataclasses import dataclass
from typing import Any

_PREVIEW_TYPES = {1: "image/jpeg", 2: "image/png"}
_WIDTH = 300
_LIST_ITEMS = 5


@dataclass(frozen=True, slots=True)
class OutputFile:
    node_id: str
    filename: str
    subfolder: str
    type: str  # "output", "temp" or "input": where /view finds it
    kind: str  # the key it was listed under: "images", "gifs", "audio", ...
    animated: bool = False  # built-in video and animation nodes list their files under "images"


@dataclass(frozen=True, slots=True)
class ProgressEvent:
    prompt_id: str
    kind: str  # queued, started, cached, executing, progress, executed, preview, reconnecting, done
    node_id: str | None = None
    class_type: str = ""
    title: str = ""
    value: int = 0
    max: int = 0
    fraction: float = 0.0  # estimate for the whole prompt: nodes done / nodes to run
    queue_remaining: int | None = None
    preview: bytes | None = None
    preview_type: str = ""

    @property
    def label(self) -> str:
        """What to call the node on screen: its title, else its class, else its id."""
        return self.title or self.class_type or (f"node {self.node_id}" if self.node_id else "")


@dataclass(frozen=True, slots=True)
class NodeError:
    node_id: str
    class_type: str
    title: str
    input_name: str
    type: str
    message: str
    details: str

    def text(self) -> str:
        where = node_name(self.node_id, self.class_type, self.title)
        if self.input_name:
            where += f" input {self.input_name}"
        return f"{where}: {_join(self.message, _details(self.details, self.input_name))}"


def node_name(node_id: str, class_type: str, title: str = "") -> str:
    """``KSampler (node 3)``, with the graph's title when it says more than the class."""
    extra = f", {title!r}" if title and title != class_type else ""
    return f"{class_type or 'node'} (node {node_id}{extra})"


def node_info(graph: dict[str, Any], node_id: str | None) -> tuple[str, str]:
    """(class_type, _meta.title) of a node of the submitted graph; empty when unknown."""
    node = graph.get(node_id or "") if node_id is not None else None
    if not isinstance(node, dict):
        return "", ""
    meta = node.get("_meta")
    if not isinstance(meta, dict):
        meta = {}
    return str(node.get("class_type") or ""), str(meta.get("title") or "")


class PromptTracker:
    """Follows one prompt through the frames of a socket (frames of other prompts are ignored)."""

    def __init__(self, prompt_id: str, graph: dict[str, Any]) -> None:
        self.prompt_id = prompt_id
        self.graph = graph
        self.started = False
        self.done = False
        self.cached: list[str] = []
        self.ran: list[str] = []  # nodes that sent executing, in execution order
        self.step = (0, 0)
        self.error: dict[str, Any] | None = None  # execution_error payload
        self.interrupted: dict[str, Any] | None = None  # execution_interrupted payload
        self.outputs: dict[str, dict[str, Any]] = {}  # executed ui outputs, a fallback for history

    def handle(self, frame: str | bytes) -> ProgressEvent | None:
        if isinstance(frame, bytes):
            return self._binary(frame)
        try:
            message = json.loads(frame)
        except ValueError:
            return None
        if not isinstance(message, dict) or not isinstance(message.get("data"), dict):
            return None
        return self._text(str(message.get("type")), message["data"])

    def fraction(self) -> float:
        if self.done:
            return 1.0
        to_run = max(1, len(self.graph) - len(self.cached))
        finished = max(0, len(self.ran) - 1)
        value, maximum = self.step
        partial = value / maximum if maximum else 0.0
        return min(0.99, (finished + min(1.0, partial)) / to_run)

    def _text(self, kind: str, data: dict[str, Any]) -> ProgressEvent | None:
        if kind == "status":
            if self.started:
                return None
            remaining = data.get("status", {}).get("exec_info", {}).get("queue_remaining")
            return self._event("queued", queue_remaining=remaining if isinstance(remaining, int) else None)
        pid = data.get("prompt_id")
        # A socket that reconnects while our prompt runs gets executing{node} without prompt_id.
        if pid != self.prompt_id and not (pid is None and kind == "executing" and self.started):
            return None
        handler = _HANDLERS.get(kind)
        return handler(self, data) if handler else None

    def _start(self, data: dict[str, Any]) -> ProgressEvent:
        self.started = True
        return self._event("started")

    def _cached(self, data: dict[str, Any]) -> ProgressEvent:
        self.started = True
        self.cached = [str(n) for n in data.get("nodes") or []]
        return self._event("cached")

    def _executing(self, data: dict[str, Any]) -> ProgressEvent | None:
        node = data.get("node")
        if node is None:
            self.done = True  # the only reliable end: history is written by now
            return self._event("done")
        self.started = True
        node = str(node)
        if not self.ran or self.ran[-1] != node:
            self.ran.append(node)
        self.step = (0, 0)
        return self._event("executing", node)

    def _progress(self, data: dict[str, Any]) -> ProgressEvent:
        self.step = (_int(data.get("value")), _int(data.get("max")))
        return self._event("progress", str(data.get("node") or (self.ran[-1] if self.ran else "")))

    def _executed(self, data: dict[str, Any]) -> ProgressEvent:
        node = str(data.get("node"))
        if isinstance(data.get("output"), dict):
            self.outputs[node] = data["output"]
        return self._event("executed", node)

    def _error(self, data: dict[str, Any]) -> None:
        self.error = data

    def _interrupted(self, data: dict[str, Any]) -> None:
        self.interrupted = data

    def _binary(self, frame: bytes) -> ProgressEvent | None:
        preview = parse_preview(frame)
        if preview is None or not self.started:
            return None
        image, mime, meta = preview
        if meta.get("prompt_id", self.prompt_id) != self.prompt_id:
            return None
        node = str(meta.get("node_id") or (self.ran[-1] if self.ran else "")) or None
        return self._event("preview", node, preview=image, preview_type=mime)

    def _event(self, kind: str, node_id: str | None = None, **extra: Any) -> ProgressEvent:
        class_type, title = node_info(self.graph, node_id)
        value, maximum = self.step if kind == "progress" else (0, 0)
        return ProgressEvent(self.prompt_id, kind, node_id or None, class_type, title, value, maximum,
                             self.fraction(), **extra)


_HANDLERS = {"execution_start": PromptTracker._start, "execution_cached": PromptTracker._cached,
             "executing": PromptTracker._executing, "progress": PromptTracker._progress,
             "executed": PromptTracker._executed, "execution_error": PromptTracker._error,
             "execution_interrupted": PromptTracker._interrupted}


def parse_preview(frame: bytes) -> tuple[bytes, str, dict[str, Any]] | None:
    """(image bytes, mime type, metadata) of a preview frame; None for other binary events."""
    if len(frame) < 8:
        return None
    event, second = struct.unpack(">II", frame[:8])
    if event == 1:
        return frame[8:], _PREVIEW_TYPES.get(second, "image/jpeg"), {}
    if event == 4 and len(frame) >= 8 + second:
        try:
            meta = json.loads(frame[8:8 + second])
        except ValueError:
            return None
        meta = meta if isinstance(meta, dict) else {}
        return frame[8 + second:], str(meta.get("image_type") or "image/png"), meta
    return None


def outputs_of(ui_outputs: dict[str, Any]) -> dict[str, list[OutputFile]]:
    """Every ``{filename, subfolder, type}`` listed under any key of each node's ui dict."""
    found: dict[str, list[OutputFile]] = {}
    for node_id, ui in ui_outputs.items():
        if not isinstance(ui, dict):
            continue
        animated = any(v is True for v in ui.get("animated") or [])
        for kind, items in ui.items():
            for item in items if isinstance(items, list) else []:
                if isinstance(item, dict) and item.get("filename"):
                    found.setdefault(str(node_id), []).append(OutputFile(
                        str(node_id), str(item["filename"]), str(item.get("subfolder") or ""),
                        str(item.get("type") or "output"), kind, animated))
    return found


def history_message(entry: dict[str, Any], kind: str) -> dict[str, Any] | None:
    """The payload of the last ``kind`` message in a history entry's status.messages."""
    messages = (entry.get("status") or {}).get("messages") or []
    for item in reversed(messages):
        if isinstance(item, list) and len(item) == 2 and item[0] == kind and isinstance(item[1], dict):
            return item[1]
    return None


def node_errors_of(node_errors: Any, graph: dict[str, Any]) -> tuple[NodeError, ...]:
    errors = []
    for node_id, info in (node_errors or {}).items() if isinstance(node_errors, dict) else []:
        class_type = str(info.get("class_type") or node_info(graph, node_id)[0])
        title = node_info(graph, node_id)[1]
        for err in info.get("errors") or []:
            extra = err.get("extra_info") if isinstance(err.get("extra_info"), dict) else {}
            errors.append(NodeError(str(node_id), class_type, title, str(extra.get("input_name") or ""),
                                    str(err.get("type") or ""), str(err.get("message") or ""),
                                    str(err.get("details") or "")))
    return tuple(errors)


def rejection_text(body: dict[str, Any], errors: tuple[NodeError, ...]) -> str:
    """One line for a 400 from POST /prompt: every node error, else the general error."""
    if errors:
        return one_line("; ".join(e.text() for e in errors))
    error = body.get("error")
    if not isinstance(error, dict):
        error = {}
    message = str(error.get("message") or body.get("error") or "the workflow is not valid").rstrip(".")
    details = str(error.get("details") or "")
    return one_line(f"{message} ({details})" if details and details != message else message)


def execution_error_text(payload: dict[str, Any], graph: dict[str, Any]) -> str:
    node_id = str(payload.get("node_id") or "")
    class_type = str(payload.get("node_type") or node_info(graph, node_id)[0])
    where = node_name(node_id, class_type, node_info(graph, node_id)[1])
    kind = str(payload.get("exception_type") or "error")
    return one_line(f"{where} failed: {kind}: {payload.get('exception_message') or 'no message'}")


def one_line(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= _WIDTH else line[:_WIDTH - 1] + "…"


def _details(details: str, input_name: str) -> str:
    """ComfyUI repeats the input name in details ("ckpt_name: 'x' not in [...]", "image - ...")."""
    for prefix in (f"{input_name}: ", f"{input_name} - "):
        if input_name and details.startswith(prefix):
            details = details[len(prefix):]
    return "" if details == input_name else _shorten_list(details)


def _shorten_list(details: str) -> str:
    """``'x' not in ['a', 'b', …]`` with hundreds of models becomes the first few and a count."""
    start = details.find(" not in [")
    if start < 0 or len(details) - start < 120:
        return details
    try:
        options = ast.literal_eval(details[start + len(" not in "):])
    except (ValueError, SyntaxError):
        return details[:start + 100] + "…]"
    shown = ", ".join(repr(o) for o in options[:_LIST_ITEMS])
    return f"{details[:start]} not in [{shown}, … {len(options) - _LIST_ITEMS} more]"


def _join(message: str, details: str) -> str:
    message = message.rstrip(".") or "not valid"
    return f"{message}: {details}" if details else message


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0
