"""One pass over one picture for an import: decode once at reduced scale (which still reads, and
so checks, the whole file), write its thumbnails, and analyse it from the same pixels (its faces'
identity descriptors too, from a larger decode of the same bytes where a face is small).

Runs in a worker process (see ``pool``): the task names the file's staged copy (see ``staging``:
the bytes that were hashed, read here rather than sent through a pipe) and
its hash, and the result only numbers and short strings, so nothing large travels either way.
"""
from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from studio.engine.datasets.analysis import DECODE_SIDE, ImageAnalysis, analyze_decoded
from studio.engine.datasets.direct_io import read_all
from studio.engine.datasets.video_items import read_clip, with_clip
from studio.engine.media.thumbnails import SIZES, decode_image, write_thumbnails

log = logging.getLogger("studio.datasets")

# One decode serves both: the thumbnails' largest size and the analysis (libjpeg at 1/8 for a
# 12 MP photo, 375×500; exactly what each decoded on its own before).
REDUCE_TO = max(*SIZES, DECODE_SIDE)
# Free bytes under which an import leaves thumbnails for the grid to make when shown: on a
# nearly full disk the originals and the database need the room (a noise-like picture's
# thumbnails take as much as a small original).
LOW_SPACE = 256 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class IngestTask:
    path: Path  # the staged copy, never the source: it holds the bytes that were hashed
    sha256: str
    cache_dir: Path
    formats: tuple[str, ...]  # the decoders Pillow may try
    clip_suffix: str = ""  # a clip's extension (see ``video_items``); "" for a picture


@dataclass(frozen=True, slots=True)
class Ingested:
    width: int  # of the full picture, upright
    height: int
    format: str
    analysis: ImageAnalysis | None  # None: left to the analysis job, which reports why
    thumbnails_error: str = ""  # the grid makes missing thumbnails on demand
    clip: dict[str, Any] | None = None  # a clip's facts (``ClipInfo.to_dict``), for its quality


def ingest(task: IngestTask) -> Ingested:
    """Raises ValueError with the reason a picture is refused (damaged, too large, not one)."""
    data = read_all(task.path)
    clip = read_clip(data, task.clip_suffix) if task.clip_suffix else None
    decoded = clip.frame if clip else decode_image(data, reduce_to=REDUCE_TO, formats=list(task.formats))
    error = "" if _room(task.cache_dir) else "the disk is nearly full; they are made when shown"
    try:  # before the analysis, which shrinks the picture in place
        if not error:
            write_thumbnails(decoded.image, task.cache_dir, task.sha256)
    except OSError as exc:
        error = str(exc)
    try:
        # The bytes let a small face be described from a larger decode (not a clip's: a video)
        analysis: ImageAnalysis | None = analyze_decoded(decoded, None if clip else data)
        if clip is not None and analysis is not None:
            analysis = with_clip(analysis, clip.info)
    except Exception as exc:  # an odd picture the detector chokes on still imports
        log.warning("analysis at import failed (%s); the analysis job will try again", exc)
        analysis = None
    return Ingested(decoded.width, decoded.height, decoded.format, analysis, error,
                    clip.info.to_dict() if clip else None)


def _room(folder: Path) -> bool:
    """Whether the disk holding ``folder`` (or the nearest folder above it that exists) has
    ``LOW_SPACE`` free."""
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    try:
        return shutil.disk_usage(folder).free >= LOW_SPACE
    except OSError:
        return True
