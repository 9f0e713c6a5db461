"""``comfy run|status``: run any API-format workflow on a ComfyUI server; show the server's state.

``comfy run`` talks to ComfyUI directly (no job, no worker), so it works against any real server.
Like ``generate`` it first starts the supervised local ComfyUI when ``comfyui.folder`` is set and
it is not up (the command stops it at exit, or hands it to a running worker), and checks the
workflow against the server's ``/object_info``: missing node packs, models and bad values are
refused in one line before anything is queued. Then it submits, prints progress on stderr, saves
every output into --out and prints the saved paths. Ctrl-C interrupts the prompt (or deletes it
while queued) before exiting with 130.
"""
from __future__ import annotations

import argparse
import re
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from studio.cli.common import EXIT_CANCELED, EXIT_OK, UsageError, add_action, add_group
from studio.cli.output import note, print_fields, print_json
from studio.engine.comfyui.messages import OutputFile, ProgressEvent, node_name

if TYPE_CHECKING:
    from studio.engine.comfyui.client import PromptResult
    from studio.engine.core import Studio

_UNSAFE = re.compile(r"[^A-Za-z0-9._() -]")


def register(verbs: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    actions = add_group(verbs, "comfy", "run workflows on ComfyUI and show its status")
    run = add_action(actions, "run", "submit an API-format workflow, show progress, save the outputs",
                     run_workflow)
    run.add_argument("workflow", type=Path, metavar="WORKFLOW.json",
                     help="a workflow saved with 'Export (API)' in ComfyUI")
    run.add_argument("--set", dest="sets", action="append", default=[], metavar="NODE.INPUT=VALUE",
                     help="change an input; NODE is a node id or title, VALUE is JSON or text "
                          "(repeatable)")
    run.add_argument("--url", help="ComfyUI address (default: the local ComfyUI when comfyui.folder "
                                   "is set, else comfyui.url)")
    run.add_argument("--out", type=Path, default=Path("."), metavar="DIR",
                     help="where the outputs are saved (default: the current folder)")
    run.add_argument("--timeout", type=float, metavar="SECONDS", help="give up after this long")
    status = add_action(actions, "status", "version, device, VRAM and queue of the ComfyUI server",
                        show_status)
    status.add_argument("--url", help="ComfyUI address (default: the local ComfyUI when "
                                      "comfyui.folder is set, else comfyui.url)")


def run_workflow(studio: Studio, args: argparse.Namespace) -> int:
    from studio.engine.comfyui.client import ComfyClient, ComfyInterrupted
    from studio.engine.comfyui.generation import fetch_object_info
    from studio.engine.comfyui.validation import check
    graph = load_workflow(args.workflow)
    for assignment in args.sets:
        apply_set(graph, assignment)
    url = args.url or local_comfyui(studio)
    check(graph, fetch_object_info(url))  # the pre-check generate does: every problem, one line
    args.out.mkdir(parents=True, exist_ok=True)
    printer = _ProgressPrinter()
    with ComfyClient(url) as client, _ctrl_c() as canceled:
        try:
            result = client.run(graph, on_event=printer, cancel=canceled.is_set, timeout_s=args.timeout)
        except ComfyInterrupted as exc:
            if not canceled.is_set():
                raise  # stopped from elsewhere (ComfyUI's own page): a failure here
            note(f"canceled: {exc}")
            return EXIT_CANCELED
        for error in result.node_errors:
            note(f"warning: ComfyUI skipped an output: {error.text()}")
        saved = [(f, save_output(safe_file_name(f.filename), client.download(f), args.out))
                 for f in result.files()]
    _report(result, saved, as_json=args.json)
    return EXIT_OK


def local_comfyui(studio: Studio) -> str:
    """Where ComfyUI answers, after starting the supervised one when it is set and not up.

    The CLI's exit stops a ComfyUI started here, or hands it to the worker when one runs.
    """
    from studio.engine.comfyui.supervisor import comfy_url, supervisor_for
    supervisor = supervisor_for(studio.settings, studio.paths.logs_dir)
    if supervisor is not None:
        if not supervisor.running() and not supervisor.answers():
            note(f"starting ComfyUI in {supervisor.folder} (log: {supervisor.log_file})")
        supervisor.ensure_running()
    return comfy_url(studio.settings)


def show_status(studio: Studio, args: argparse.Namespace) -> int:
    from studio.engine.comfyui.client import ComfyClient
    from studio.engine.comfyui.supervisor import comfy_url
    url = args.url or comfy_url(studio.settings)
    with ComfyClient(url) as client:
        stats, queue = client.system_stats(), client.queue()
    system = stats.get("system") or {}
    devices = [{k: d.get(k) for k in ("name", "type", "vram_total", "vram_free")}
               for d in stats.get("devices") or []]
    report = {"url": url, "comfyui_version": system.get("comfyui_version"),
              "python_version": str(system.get("python_version") or "").split(" ")[0],
              "pytorch_version": system.get("pytorch_version"), "devices": devices,
              "queue": {"running": len(queue.running), "pending": len(queue.pending)}}
    if args.json:
        print_json(report)
        return EXIT_OK
    fields = {k: report[k] for k in ("url", "comfyui_version", "python_version", "pytorch_version")}
    for index, device in enumerate(devices):
        fields[f"device {index}"] = (f"{device['name']}: {_gib(device['vram_free'])} free of "
                                     f"{_gib(device['vram_total'])} VRAM")
    fields["queue"] = f"{len(queue.running)} running, {len(queue.pending)} pending"
    print_fields(fields)
    return EXIT_OK


def load_workflow(path: Path) -> dict[str, Any]:
    from studio.engine.comfyui import graph_json
    from studio.engine.comfyui.client import check_api_format
    try:
        graph = graph_json.loads(path.read_text(encoding="utf-8"))
    except graph_json.TooDeep as exc:
        raise UsageError(f"{path} is not a workflow: {exc}") from None
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise UsageError(f"{path} is not JSON: {exc}") from None
    return check_api_format(graph)


def apply_set(graph: dict[str, Any], assignment: str) -> None:
    """``3.seed=42`` or ``"Positive prompt.text=a cat"``; the value is JSON when it parses."""
    from studio.engine.comfyui import graph_json
    target, equals, raw = assignment.partition("=")
    node_ref, dot, input_name = target.rpartition(".")
    if not equals or not dot or not node_ref or not input_name:
        raise UsageError(f"--set {assignment!r}: expected NODE.INPUT=VALUE")
    node_id = _find_node(graph, node_ref)
    try:
        value: Any = graph_json.loads(raw)
    except ValueError:  # TooDeep too: the text is then taken as it is
        value = raw
    inputs = graph[node_id].setdefault("inputs", {})
    if input_name not in inputs:
        note(f"note: {node_name(node_id, graph[node_id].get('class_type', ''))} had no input "
             f"{input_name!r}; adding it")
    inputs[input_name] = value


def safe_file_name(name: str) -> str:
    """The last part of a server-given name, without separators or odd characters."""
    base = PurePosixPath(name.replace("\\", "/")).name
    return _UNSAFE.sub("_", base).lstrip(". ") or "output"


def save_output(name: str, content: bytes, folder: Path) -> Path:
    """Writes next to what is there: an existing file is never overwritten."""
    target = folder / name
    stem, suffix = target.stem, target.suffix
    number = 0
    while target.exists():
        number += 1
        target = folder / f"{stem}-{number}{suffix}"
    target.write_bytes(content)
    return target


def _find_node(graph: dict[str, Any], ref: str) -> str:
    if ref in graph:
        return ref
    titled = [n for n, node in graph.items() if (node.get("_meta") or {}).get("title") == ref]
    if len(titled) == 1:
        return titled[0]
    if titled:
        raise UsageError(f"--set: several nodes are titled {ref!r} ({', '.join(titled)}); use the id")
    raise UsageError(f"--set: the workflow has no node {ref!r} (ids: {', '.join(sorted(graph))})")


def _report(result: PromptResult, saved: list[tuple[OutputFile, Path]], *, as_json: bool) -> None:
    if as_json:
        print_json({"prompt_id": result.prompt_id, "comfyui_version": result.comfyui_version,
                    "cached_nodes": result.cached_nodes, "timings": result.timings,
                    "files": [{"path": str(path), "node": f.node_id, "filename": f.filename,
                               "subfolder": f.subfolder, "type": f.type, "kind": f.kind,
                               "animated": f.animated} for f, path in saved]})
        return
    for _, path in saved:
        print(path)
    if not saved:
        note("the workflow produced no output files")


class _ProgressPrinter:
    """One stderr line per node, per tenth of a node's steps, and per queue change."""

    def __init__(self) -> None:
        self.last_queue: int | None = None

    def __call__(self, event: ProgressEvent) -> None:
        line = self._line(event)
        if line:
            note(f"[{event.fraction * 100:3.0f}%] {line}")

    def _line(self, event: ProgressEvent) -> str:
        where = node_name(event.node_id or "?", event.class_type, event.title)
        if event.kind == "queued" and event.queue_remaining != self.last_queue:
            self.last_queue = event.queue_remaining
            return f"queued ({event.queue_remaining} in ComfyUI's queue)"
        if event.kind == "executing":
            return where
        if event.kind == "progress" and event.max and (
                event.value == event.max or event.value % max(1, event.max // 10) == 0):
            return f"{where} step {event.value}/{event.max}"
        if event.kind == "reconnecting":
            return "connection to ComfyUI lost; reconnecting"
        return ""


@contextmanager
def _ctrl_c() -> Iterator[threading.Event]:
    """The first Ctrl-C asks the client to stop the prompt; a second one quits at once."""
    canceled = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield canceled
        return

    def handler(signum: int, frame: object) -> None:
        if canceled.is_set():
            raise KeyboardInterrupt
        canceled.set()
        note("stopping the prompt in ComfyUI (Ctrl-C again to quit at once)")

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield canceled
    finally:
        signal.signal(signal.SIGINT, previous)


def _gib(value: Any) -> str:
    return f"{value / 2 ** 30:.1f} GiB" if isinstance(value, (int, float)) else "?"
