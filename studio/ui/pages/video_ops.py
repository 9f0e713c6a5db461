"""What the Video page asks of the engine: blocking calls, run on background lanes only.

Each returns plain values the UI thread can show (a QImage is built here, off the UI thread;
no widget is touched). The media modules are imported inside the functions: they are heavy.
"""
from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtGui import QImage

from studio.engine.comfyui.workflows import WorkflowTemplate
from studio.engine.media.probe import MediaInfo
from studio.ui.context import StudioContext

Ranges = dict[str, tuple[float, float, float]]


def video_templates() -> list[tuple[str, str, Ranges, WorkflowTemplate]]:
    """(name, title, {frames/fps/motion: (min, max, default)}, the template) of each video
    template; the template answers what else it takes (a last frame) and its VRAM estimate."""
    from studio.engine.media.i2v import video_templates as templates
    found = []
    # SVD first: it needs no custom nodes and no prompt.
    for template in sorted(templates().values(), key=lambda t: (t.base != "svd", t.name)):
        ranges = {name: (float(p.minimum or 0), float(p.maximum or 0), float(str(p.default)))
                  for name, p in template.parameters.items()
                  if name in ("frames", "fps", "motion") and p.maximum is not None}
        found.append((template.name, template.title, ranges, template))
    return found


def deliver(context: StudioContext, job_id: uuid.UUID) -> Path | None:
    """The finished export in the folder the user chose (copied there when made elsewhere)."""
    from studio.engine.media.jobs import deliver_export
    return deliver_export(context.studio, context.studio.jobs.get(context.workspace_id, job_id))


def probe_clip(path: Path) -> MediaInfo:
    from studio.engine.media.probe import probe
    return probe(path)


def frame(path: Path, at_s: float) -> QImage:
    from studio.engine.media.frames import frame_at
    pixels: np.ndarray = frame_at(path, at_s)
    height, width, _ = pixels.shape
    return QImage(pixels.data, width, height, 3 * width, QImage.Format.Format_RGB888).copy()


def submit_video(context: StudioContext, image: Path, template: str,
                 values: dict[str, object]) -> uuid.UUID:
    from studio.engine.media.i2v import VideoRequest
    from studio.engine.media.i2v import submit_video as submit
    return submit(context.studio, context.workspace_id,
                  VideoRequest(image=image, template=template, values=values)).id


def submit_export(context: StudioContext, request: Any) -> uuid.UUID:
    from studio.engine.media.jobs import submit_export as submit
    return submit(context.studio, context.workspace_id, request).id
