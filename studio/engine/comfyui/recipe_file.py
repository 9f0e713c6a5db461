"""A picture's recipe inside its own PNG, so a picture the studio made can be dropped back in.

The studio adds one iTXt chunk (UTF-8, so prompts in any script survive) holding the recipe as
JSON, just before the PNG's end, beside whatever ComfyUI wrote there ("prompt", "workflow"). The
chunk is added to the bytes as they are: no re-encoding, the pixels stay byte for byte. Reading
walks the chunks without decoding a pixel.
"""
from __future__ import annotations

import json
import struct
import zlib
from pathlib import Path
from typing import Any

from studio.engine.errors import InvalidInput

RECIPE_KEY = "influencerai-recipe"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MAX_FILE_BYTES = 256 * 1024 * 1024  # larger than any picture the studio makes
# What says when and how fast, not how: left out of the file, so the same recipe made again
# gives the same bytes (and the same content hash).
VOLATILE = ("prompt_id", "timings")


class NoRecipe(InvalidInput):
    """The file is not a picture the studio made, or its recipe was stripped."""


def with_recipe(data: bytes, recipe: dict[str, Any]) -> bytes:
    """``data`` with ``recipe`` in an iTXt chunk before IEND; anything but a PNG comes back as is."""
    if not data.startswith(PNG_SIGNATURE):
        return data
    end = _iend_offset(data)
    if end is None:
        return data
    kept = {k: v for k, v in recipe.items() if k not in VOLATILE}
    text = json.dumps(kept, sort_keys=True, default=str, separators=(",", ":"))
    body = RECIPE_KEY.encode("latin-1") + b"\0\0\0\0\0" + text.encode("utf-8")
    return data[:end] + _chunk(b"iTXt", body) + data[end:]


def read_recipe(path: Path) -> dict[str, Any]:
    """The recipe the studio wrote into the PNG at ``path``; ``NoRecipe`` says in one line why
    there is none."""
    path = Path(path)
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise NoRecipe(f"{path.name} is too large to be a picture the studio made.")
        data = path.read_bytes()
    except OSError as exc:
        raise NoRecipe(f"{path.name} cannot be read: {exc.strerror or exc}.") from None
    if not data.startswith(PNG_SIGNATURE):
        raise NoRecipe(f"{path.name} is not a PNG picture; only PNGs the studio made carry a recipe.")
    for kind, body in _chunks(data):
        if kind == b"iTXt" and body.startswith(RECIPE_KEY.encode("latin-1") + b"\0"):
            return _decoded(path.name, body)
    raise NoRecipe(f"{path.name} has no studio recipe: it was made elsewhere or its metadata was removed.")


def _decoded(name: str, body: bytes) -> dict[str, Any]:
    """The JSON of an iTXt body: keyword, compression flag and method, language, translated
    keyword, then the text."""
    rest = body[len(RECIPE_KEY) + 1:]
    compressed = rest[:1] == b"\x01"
    _, _, text = rest[2:].split(b"\0", 2)
    try:
        found = json.loads(zlib.decompress(text) if compressed else text)
    except (ValueError, zlib.error):
        raise NoRecipe(f"The recipe in {name} is damaged.") from None
    if not isinstance(found, dict):
        raise NoRecipe(f"The recipe in {name} is damaged.")
    return found


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def _chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    """Every chunk's type and body, in order; a truncated tail is left out."""
    found, offset = [], len(PNG_SIGNATURE)
    while offset + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[offset:offset + 8])
        body = data[offset + 8:offset + 8 + length]
        if len(body) < length:
            break
        found.append((kind, body))
        offset += 12 + length
    return found


def _iend_offset(data: bytes) -> int | None:
    offset = len(PNG_SIGNATURE)
    while offset + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[offset:offset + 8])
        if kind == b"IEND":
            return offset
        offset += 12 + length
    return None
