"""ComfyUI's node catalogue (``/object_info``), kept per server start so a check costs one small ask.

``/object_info`` is half a megabyte on a server with a few node packs, and ComfyUI builds it
anew on every ask: fetched and parsed before each ``generate`` it cost 0.9 s. Its node
definitions only change when ComfyUI restarts with other code; what does change while it runs
are the lists that follow folders (checkpoints, LoRAs, input images). So:

- the whole map is kept in memory and, with a cache folder, on disk (one file per server URL,
  written atomically), keyed by the URL and a stamp of ``/system_stats``: the version, argv,
  Python, torch, RAM and VRAM totals, which a restart with other code or options changes.
  ComfyUI reports no start time, so a plain restart with the same of all these keeps the stamp;
- the node types that list a folder are read afresh with ``/object_info/<Class>`` (a few KB
  each) for the classes the caller names, so a checkpoint added a minute ago is seen;
- a stale map cannot refuse a good workflow: callers that find a problem ask again with
  ``fresh=True`` before they refuse, and ``forget`` drops a map ComfyUI contradicted;
- a map older than ``MAX_AGE_S`` is fetched again (ComfyUI updated in place keeps its version
  string between releases).
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeGuard

from studio.engine.comfyui.validation import combo_options, model_input
from studio.engine.fsutil import atomic_writer

if TYPE_CHECKING:
    from studio.engine.comfyui.client import ComfyClient

__all__ = ["MAX_AGE_S", "clear", "forget", "live_classes", "node_catalogue", "server_stamp"]

MAX_AGE_S = 24 * 3600
FOLDER = "comfyui"  # under the studio's cache folder
_FORMAT = 1
_UPLOAD_FLAGS = ("image_upload", "video_upload", "audio_upload")
_MODEL_SUFFIXES = (".safetensors", ".ckpt", ".pt", ".pth", ".bin", ".gguf", ".sft", ".onnx")
# What changes from moment to moment in /system_stats, so it is not part of the stamp.
_VOLATILE = ("ram_free", "vram_free", "torch_vram_free", "torch_vram_total")


@dataclass(frozen=True, slots=True)
class _Entry:
    url: str
    stamp: str
    fetched_at: float  # time.time(): the disk copy outlives the process
    info: dict[str, Any]
    live: frozenset[str]  # node types with a combo that lists a folder


_memory: dict[str, _Entry] = {}
_lock = threading.Lock()


def node_catalogue(client: ComfyClient, *, classes: Iterable[str] | None = None,
                   cache_dir: Path | None = None, fresh: bool = False) -> dict[str, Any]:
    """ComfyUI's ``/object_info`` as the server answers it now, from the cache when its stamp
    matches; the folder-listing node types among ``classes`` (all of them when None) are asked
    afresh. ``fresh`` fetches the whole map whatever is cached."""
    stamp = server_stamp(client.system_stats())
    entry = None if fresh else _cached(client.base_url, stamp, cache_dir)
    if entry is None:
        return dict(_fetch(client, stamp, cache_dir).info)
    wanted = entry.live if classes is None else entry.live.intersection(classes)
    info = dict(entry.info)
    for name in sorted(wanted):
        info.update(client.object_info(name))  # {} when the class has gone: the map is kept
    return info


def forget(url: str, cache_dir: Path | None = None) -> None:
    """Drops what is kept for this server, so the next ask fetches the whole map."""
    url = url.rstrip("/")
    with _lock:
        _memory.pop(url, None)
    if cache_dir is not None:
        _file(cache_dir, url).unlink(missing_ok=True)


def clear() -> None:
    """Forgets every server's map kept in this process (the disk copies stay)."""
    with _lock:
        _memory.clear()


def server_stamp(stats: dict[str, Any]) -> str:
    """What identifies a ComfyUI start as far as its nodes go, from ``/system_stats``."""
    system = {k: v for k, v in (stats.get("system") or {}).items() if k not in _VOLATILE}
    devices = [{k: v for k, v in device.items() if k not in _VOLATILE}
               for device in stats.get("devices") or [] if isinstance(device, dict)]
    text = json.dumps({"system": system, "devices": devices}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def _cached(url: str, stamp: str, cache_dir: Path | None) -> _Entry | None:
    """The kept map of this server start: this process's, else the one another run wrote."""
    with _lock:
        entry = _memory.get(url)
    if _current(entry, url, stamp):
        return entry
    entry = _read(_file(cache_dir, url)) if cache_dir is not None else None
    if not _current(entry, url, stamp):
        return None
    with _lock:
        _memory[url] = entry
    return entry


def _current(entry: _Entry | None, url: str, stamp: str) -> TypeGuard[_Entry]:
    return (entry is not None and entry.url == url and entry.stamp == stamp
            and time.time() - entry.fetched_at < MAX_AGE_S)


def _fetch(client: ComfyClient, stamp: str, cache_dir: Path | None) -> _Entry:
    info = client.object_info()
    entry = _Entry(client.base_url, stamp, time.time(), info, live_classes(info))
    with _lock:
        _memory[entry.url] = entry
    if cache_dir is not None:
        _write(_file(cache_dir, entry.url), entry)
    return entry


def live_classes(info: dict[str, Any]) -> frozenset[str]:
    """Node types whose options follow a folder: model loaders and file uploads."""
    return frozenset(name for name, node in info.items()
                     if isinstance(node, dict) and _lists_a_folder(name, node))


def _lists_a_folder(class_type: str, node: dict[str, Any]) -> bool:
    inputs = node.get("input") or {}
    for group in ("required", "optional"):
        for input_name, spec in (inputs.get(group) or {}).items():
            options = combo_options(spec)
            if options is None:
                continue
            extra = spec[1] if len(spec) > 1 and isinstance(spec[1], dict) else {}
            if (model_input(class_type, input_name) is not None
                    or any(extra.get(flag) for flag in _UPLOAD_FLAGS)
                    or any(str(o).lower().endswith(_MODEL_SUFFIXES) for o in options)):
                return True
    return False


# Disk --------------------------------------------------------------------------------------------

def _file(cache_dir: Path, url: str) -> Path:
    return Path(cache_dir) / FOLDER / f"object_info-{hashlib.sha256(url.encode()).hexdigest()[:16]}.json"


def _read(path: Path) -> _Entry | None:
    """The kept map, or None when there is none or it cannot be read (then it is fetched)."""
    try:
        data = json.loads(path.read_bytes())
        if data.get("format") != _FORMAT:
            return None
        return _Entry(str(data["url"]), str(data["stamp"]), float(data["fetched_at"]),
                      dict(data["object_info"]), frozenset(data["live"]))
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def _write(path: Path, entry: _Entry) -> None:
    """Written beside and renamed over, so a CLI run reading it at the same time sees all or none;
    a cache that cannot be written only costs the next run a fetch."""
    data = {"format": _FORMAT, "url": entry.url, "stamp": entry.stamp,
            "fetched_at": entry.fetched_at, "live": sorted(entry.live), "object_info": entry.info}
    with contextlib.suppress(OSError):
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_writer(path) as handle:
            handle.write(json.dumps(data, separators=(",", ":")).encode())
