"""The families of the LoRAs in ComfyUI's own loras folder, when the studio knows that folder.

ComfyUI lists its LoRAs by path under the folder (``sub/name.safetensors``) without saying which
model each is for; each file's header does (``modelspec.architecture``, ``ss_base_model_version``).
Headers are read once per file version (path, size, modification time); a file that cannot be read
has no known family and stays offered.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from studio.engine.errors import InvalidInput
from studio.engine.loras.family import family_of
from studio.engine.loras.safetensors import SUFFIX, read_header


def folder_families(folder: Path | None) -> dict[str, str | None]:
    """Each LoRA in ``folder`` as ComfyUI names it, with the family its header names."""
    if folder is None or not folder.is_dir():
        return {}
    found: dict[str, str | None] = {}
    for path in folder.rglob(f"*{SUFFIX}"):
        try:
            stat = path.stat()
        except OSError:
            continue  # removed meanwhile
        found[path.relative_to(folder).as_posix()] = _family(str(path), stat.st_size, stat.st_mtime_ns)
    return found


@lru_cache(maxsize=4096)
def _family(path: str, size: int, mtime_ns: int) -> str | None:
    """``size`` and ``mtime_ns`` are part of the cache key: a replaced file is read again."""
    try:
        header = read_header(Path(path))
    except InvalidInput:
        return None
    return family_of(header.metadata, header.shapes)
