"""The crop rule of "crop to fill": which part of a picture a platform's frame keeps.

The picture is scaled to cover the frame, and the part cut away is shared out by the focus point:
at focus 0 all of it goes from the right (or bottom), at 1 all from the left (or top), at 0.5
evenly. This is FFmpeg's ``crop=w:h:(iw-ow)*fx:(ih-oh)*fy`` after a covering scale, so video
exports, still exports and the previews drawn in the UI all keep the same part.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Box:
    """A rectangle in the source picture's pixels."""

    x: float
    y: float
    w: float
    h: float

    def corners(self) -> tuple[float, float, float, float]:
        """(left, top, right, bottom), as Pillow's ``box`` arguments take it."""
        return self.x, self.y, self.x + self.w, self.y + self.h


def fill_box(*, source: tuple[float, float], frame: tuple[float, float],
             focus: tuple[float, float]) -> Box:
    """The part of a ``source`` (width, height) that a ``frame`` of that size or aspect keeps."""
    sw, sh = source
    aspect = frame[0] / frame[1]
    if sw / sh > aspect:
        w, h = sh * aspect, float(sh)
    else:
        w, h = float(sw), sw / aspect
    fx, fy = (min(max(v, 0.0), 1.0) for v in focus)
    return Box((sw - w) * fx, (sh - h) * fy, w, h)


def fill_filter(*, width: int, height: int, focus: tuple[float, float]) -> str:
    """The same rule as an FFmpeg filter chain that ends in a ``width``×``height`` frame."""
    fx, fy = focus
    return (f"scale={width}:{height}:force_original_aspect_ratio=increase,"
            f"crop={width}:{height}:(iw-ow)*{fx:g}:(ih-oh)*{fy:g}")
