"""Reading a .safetensors file's header without torch, strictly, for a LoRA made elsewhere.

The file starts with an 8-byte little-endian header length, then a JSON object: one entry per
tensor (dtype, shape, data_offsets into the data that follows) and ``__metadata__``, strings
such as sd-scripts' ``ss_*`` and the model spec's ``modelspec.*``. A file whose size does not
match the last tensor's end is cut short or is something else.
"""
from __future__ import annotations

import json
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from studio.engine.errors import InvalidInput

MAX_HEADER = 100 * 1024 * 1024  # the format's own limit
SUFFIX = ".safetensors"


@dataclass(frozen=True, slots=True)
class SafetensorsHeader:
    metadata: dict[str, str]
    tensors: int
    size_bytes: int
    shapes: dict[str, tuple[int, ...]] = field(default_factory=dict)  # each tensor's shape: tells a model's size


@dataclass(frozen=True, slots=True)
class RawHeader:
    """A header as the file holds it: the tensor entries, ``__metadata__`` and where data ends."""
    tensors: dict[str, Any]
    metadata: dict[str, str]
    data_end: int  # 8 + the header's length + the last tensor's end: the complete file's size
    size_bytes: int  # the file's size now (smaller while it is still being written)


def read_raw_header(path: Path) -> RawHeader | None:
    """The header of a .safetensors file, or None while the file is too short to hold it (still
    being written). A header that is no safetensors header is refused in one sentence."""
    try:
        size = path.stat().st_size
        with path.open("rb") as handle:
            raw = handle.read(8)
            if len(raw) < 8:
                return None
            length = struct.unpack("<Q", raw)[0]
            if length < 2 or length > MAX_HEADER:
                raise _damaged(path, "its header is missing or cut short")
            if 8 + length > size:
                return None
            header = _json_object(path, handle.read(length))
    except OSError as exc:
        raise InvalidInput(f"{path} cannot be read: {exc.strerror or exc}.") from exc
    metadata = header.pop("__metadata__", None) or {}
    if not isinstance(metadata, dict):
        raise _damaged(path, "its __metadata__ is not a table")
    end = max((_tensor_end(path, name, entry) for name, entry in header.items()), default=0)
    return RawHeader(header, {str(k): str(v) for k, v in metadata.items()}, 8 + length + end, size)


def read_header(path: Path) -> SafetensorsHeader:
    """The header of a complete .safetensors file; anything else is refused in one sentence."""
    if path.suffix.lower() != SUFFIX:
        raise InvalidInput(f"{path.name} is not a .safetensors file; LoRAs are imported from .safetensors only.")
    raw = read_raw_header(path)
    if raw is None:
        raise _damaged(path, "its header is missing or cut short")
    if not raw.tensors:
        raise _damaged(path, "it holds no tensors")
    if raw.data_end != raw.size_bytes:
        raise _damaged(path, f"it is {raw.size_bytes} bytes where its header describes {raw.data_end}")
    return SafetensorsHeader(raw.metadata, len(raw.tensors), raw.size_bytes, shapes_of(raw.tensors))


def shapes_of(tensors: dict[str, Any]) -> dict[str, tuple[int, ...]]:
    """Each tensor's shape, as far as its entry gives one of whole numbers."""
    found: dict[str, tuple[int, ...]] = {}
    for name, entry in tensors.items():
        shape = entry.get("shape") if isinstance(entry, dict) else None
        if isinstance(shape, list) and all(isinstance(n, int) for n in shape):
            found[name] = tuple(shape)
    return found


def _json_object(path: Path, raw: bytes) -> dict[str, Any]:
    try:
        header = json.loads(raw)
    except ValueError:
        raise _damaged(path, "its header is not JSON") from None
    if not isinstance(header, dict):
        raise _damaged(path, "its header is not a JSON object")
    return header


def _tensor_end(path: Path, name: str, entry: object) -> int:
    offsets = entry.get("data_offsets") if isinstance(entry, dict) else None
    if not (isinstance(offsets, list) and len(offsets) == 2 and all(isinstance(o, int) for o in offsets)
            and 0 <= offsets[0] <= offsets[1] and isinstance(entry, dict) and "dtype" in entry):
        raise _damaged(path, f"its tensor '{name}' is not described properly")
    return int(offsets[1])


def _damaged(path: Path, why: str) -> InvalidInput:
    return InvalidInput(f"{path.name} is not a LoRA the studio can read: {why}.")
