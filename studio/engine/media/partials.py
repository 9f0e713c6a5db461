"""Hidden partial outputs: named after the process that writes them, swept once it is gone.

FFmpeg writes to ``.<name>.partial-<pid>-<start>.<ext>`` beside the target and the file is
renamed over the target only when FFmpeg succeeded (media/render.py). A process killed with -9
cannot delete its partial file, so the name says whose it is (pid and start time, see
engine/processes.py) and the next export into that folder, or the next worker start, removes
the partial files of processes that no longer run. Others' files in progress are left alone.
"""
from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path

from studio.engine.processes import start_token, token_running

log = logging.getLogger("studio.media")
MARK = ".partial-"


def partial_name(output: Path) -> Path:
    """Hidden, beside the target (same disk, so the rename is atomic), same extension (so
    FFmpeg picks the same muxer)."""
    return output.with_name(f".{output.stem}{MARK}{start_token()}{output.suffix}")


def owner_token(path: Path) -> str | None:
    """The ``<pid>-<start>`` a partial file's name carries; None for any other file."""
    name = path.name
    if not name.startswith(".") or MARK not in name:
        return None
    token = name.rsplit(MARK, 1)[1]
    return token.split(".", 1)[0] or None


def sweep(folder: Path) -> list[Path]:
    """Removes the partial files in ``folder`` whose writing process is gone."""
    return _remove(folder.glob(f".*{MARK}*"))


def sweep_tree(root: Path, depth: int) -> list[Path]:
    """The same in every folder ``depth`` levels below ``root`` (the asset store's
    ``videos/<workspace>/<job>/`` is depth 2 under ``videos``)."""
    pattern = "/".join(["*"] * depth + [f".*{MARK}*"])
    return _remove(root.glob(pattern)) if root.is_dir() else []


def _remove(paths: Iterable[Path]) -> list[Path]:
    removed = []
    for path in paths:
        token = owner_token(path)
        if token is None or token_running(token) or not path.is_file():
            continue
        try:
            path.unlink()
        except OSError as exc:  # read-only or vanished: the next sweep tries again
            log.warning("partial file %s left: %s", path, exc)
            continue
        removed.append(path)
    if removed:
        log.info("removed %d partial file(s) of stopped processes", len(removed))
    return removed
