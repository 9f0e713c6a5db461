"""How large a picture the studio decodes: one limit on pixels, one on decoded bytes, for every
place that opens a picture (import, thumbnails, analysis, crops, dataset export, ``export image``).

A PNG of 13000×13000 is 657 KB on disk and 676 MB decoded (Pillow keeps RGB and RGBA at four
bytes a pixel), and each working copy costs as much again, so a file's size says nothing about
its cost. The pixel limit refuses a header that claims an absurd size before anything is read;
the byte limit refuses what would be decoded above ``MAX_DECODED_BYTES``. A JPEG is decoded at
reduced scale where the caller needs less than its full size (libjpeg scales by 1/2, 1/4 or 1/8
while decoding), and the byte limit counts what is actually decoded.

Pillow's DecompressionBombWarning is silenced here: these checks take its place and say why in
the studio's words. Pillow's DecompressionBombError (twice its warning size) is turned into the
same refusal.
"""
from __future__ import annotations

import math
import re
import warnings
from io import BytesIO
from pathlib import Path

from PIL import Image

MAX_PIXELS = 178_000_000  # about Pillow's own hard limit, which would stop a larger one anyway
MAX_DECODED_BYTES = 256 * 2**20  # an 8192×8192 RGBA picture; a camera JPEG decodes reduced
BYTES_PER_PIXEL = 4  # what Pillow stores an RGB or RGBA pixel in; every picture ends up so
REDUCING_GAP = 2  # keep at least twice the size needed, so the last resize still looks smooth

warnings.filterwarnings("ignore", category=Image.DecompressionBombWarning)


class ImageTooLarge(ValueError):
    """A picture refused by a limit; the message is the reason, in plain words."""


def open_image(source: Path | bytes, *, formats: list[str] | None = None) -> Image.Image:
    """Reads the header only (no pixels yet); refuses a picture past the pixel limit.

    Pillow's own errors (not an image, damaged header) pass through for the caller to word.
    """
    try:
        with warnings.catch_warnings():  # also where the filter above was reset (a test's)
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            opened = Image.open(BytesIO(source) if isinstance(source, bytes) else source,
                                formats=formats)
    except Image.DecompressionBombError as exc:  # its message: "Image size (N pixels) exceeds …"
        found = re.search(r"\((\d+) pixels\)", str(exc))
        count = f"{found.group(1)}; " if found else ""
        raise ImageTooLarge(f"too many pixels ({count}more than {MAX_PIXELS // 10**6} million): "
                            "refused as a possible decompression bomb") from None
    width, height = opened.size
    if width * height > MAX_PIXELS:
        opened.close()
        raise ImageTooLarge(f"too large ({width}×{height} pixels, more than "
                            f"{MAX_PIXELS // 10**6} million): refused as a possible "
                            "decompression bomb")
    return opened


def decoded_bytes(size: tuple[int, int]) -> int:
    return size[0] * size[1] * BYTES_PER_PIXEL


def prepare_decode(image: Image.Image, *, at_least: tuple[int, int] | None = None,
                   mode: str | None = None) -> None:
    """Before ``load()``: decodes a JPEG at the smallest scale that still gives ``at_least``
    pixels on each axis, then refuses when what will be decoded passes the byte limit."""
    if at_least is not None and image.format == "JPEG":
        image.draft(mode, (max(1, at_least[0]), max(1, at_least[1])))
    check_decoded(image.size)


def check_decoded(size: tuple[int, int]) -> None:
    needed = decoded_bytes(size)
    if needed > MAX_DECODED_BYTES:
        raise ImageTooLarge(f"too large to decode ({size[0]}×{size[1]} pixels take "
                            f"{_mb(needed)} MB in memory; at most {_mb(MAX_DECODED_BYTES)} MB)")


def covering(size: tuple[int, int], frame: tuple[int, int]) -> tuple[int, int]:
    """The size (same aspect as ``size``) a picture may be reduced to and still fill ``frame``
    with room for a smooth resize; in either orientation, since EXIF may turn it."""
    width, height = size
    need = max(frame)
    factor = min(width, height) / (need * REDUCING_GAP)
    if factor <= 1:
        return size
    return max(1, math.ceil(width / factor)), max(1, math.ceil(height / factor))


def reduced(image: Image.Image, at_least: tuple[int, int]) -> Image.Image:
    """A loaded picture shrunk by a whole factor (box average, cheap) to no less than ``at_least``;
    the picture itself when no such factor exists."""
    factor = min(image.width // max(1, at_least[0]), image.height // max(1, at_least[1]))
    return image.reduce(factor) if factor >= 2 else image


def _mb(count: int) -> int:
    return math.ceil(count / 2**20)
