"""The thumbnail cache, and the ``make-thumbnails`` job that fills it.

Thumbnails are keyed by the image's content hash, so a file that moves or is imported twice
shares one set; a corrupt or hostile file is reported and skipped, never fatal to the job.
"""
from __future__ import annotations

import hashlib
import warnings
from io import BytesIO
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image, ImageOps, UnidentifiedImageError

from studio.engine.errors import InvalidInput
from studio.engine.fsutil import atomic_write_bytes
from studio.engine.jobs.context import JobContext
from studio.engine.jobs.errors import JobFailed
from studio.engine.jobs.registry import job_type
from studio.engine.storage.local import LocalStore

SIZES = (128, 256)
MAX_PIXELS = 200_000_000  # refuse decompression bombs before decoding them
MAX_FILES = 100_000


@dataclass(frozen=True, slots=True)
class Thumbnail:
    source: Path
    size: int
    path: Path


def thumbnail_path(cache_dir: Path, sha256: str, size: int) -> Path:
    return cache_dir / "thumbnails" / sha256[:2] / f"{sha256}-{size}.png"


def make_thumbnails(source: Path, cache_dir: Path, sizes: tuple[int, ...] = SIZES) -> list[Thumbnail]:
    """Decodes ``source`` once and writes every missing size; raises ValueError with a reason."""
    data = _read(source)
    sha = hashlib.sha256(data).hexdigest()
    wanted = [s for s in sizes if not thumbnail_path(cache_dir, sha, s).exists()]
    if wanted:
        image = _decode(source, data)
        for size in wanted:
            copy = image.copy()
            copy.thumbnail((size, size), Image.Resampling.LANCZOS)
            target = thumbnail_path(cache_dir, sha, size)
            target.parent.mkdir(parents=True, exist_ok=True)
            buffer = BytesIO()
            copy.save(buffer, format="PNG", optimize=False)
            atomic_write_bytes(target, buffer.getvalue())
    return [Thumbnail(source, s, thumbnail_path(cache_dir, sha, s)) for s in sizes]


def _read(source: Path) -> bytes:
    try:
        if not source.is_file():
            raise ValueError("not a file" if source.exists() else "file not found")
        data = source.read_bytes()
    except PermissionError:
        raise ValueError("permission denied") from None
    except OSError as exc:
        raise ValueError(f"cannot be read ({exc.strerror or exc})") from None
    if not data:
        raise ValueError("empty file (0 bytes)")
    return data


def _decode(source: Path, data: bytes) -> Image.Image:
    previous = Image.MAX_IMAGE_PIXELS
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            Image.MAX_IMAGE_PIXELS = MAX_PIXELS
            with Image.open(BytesIO(data)) as image:
                if image.width * image.height > MAX_PIXELS:
                    raise ValueError(f"too large ({image.width}×{image.height} pixels)")
                image = ImageOps.exif_transpose(image)
                image.load()
                return _displayable(image)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ValueError("too many pixels (possible decompression bomb)") from None
    except UnidentifiedImageError:
        raise ValueError("not an image, or a format that is not supported") from None
    except (OSError, SyntaxError) as exc:
        raise ValueError(f"damaged image ({exc})") from None
    finally:
        Image.MAX_IMAGE_PIXELS = previous


def _displayable(image: Image.Image) -> Image.Image:
    """CMYK, palette, 16-bit and grey images become RGB(A) for a PNG thumbnail."""
    if image.mode in ("RGB", "RGBA"):
        return image
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        return image.point(lambda v: v / 256).convert("L").convert("RGB")
    has_alpha = image.mode in ("LA", "PA") or (image.mode == "P" and "transparency" in image.info)
    return image.convert("RGBA" if has_alpha else "RGB")


def _sources(ctx: JobContext) -> dict[str, Path]:
    """``files`` are paths on the worker's machine; ``keys`` name files in its asset store, so a
    job queued on one machine can run on another."""
    store = LocalStore(ctx.paths.assets_dir)
    sources = {str(f): Path(f) for f in ctx.payload.get("files", [])}
    for key in ctx.payload.get("keys", []):
        try:
            sources[str(key)] = store.path(str(key))
        except InvalidInput as exc:
            raise JobFailed(str(exc)) from exc
    if not sources:
        raise JobFailed("No files were given to make thumbnails of.")
    if len(sources) > MAX_FILES:
        raise JobFailed(f"Too many files in one job ({len(sources)}; at most {MAX_FILES}).")
    return sources


@job_type("make-thumbnails", queue="general")
def run_make_thumbnails(ctx: JobContext) -> dict[str, Any]:
    sources = _sources(ctx)
    sizes = tuple(int(s) for s in ctx.payload.get("sizes", SIZES))
    made: dict[str, list[str]] = {}
    refused: dict[str, str] = {}
    ctx.progress(0.0, stage="thumbnails", message=f"0 of {len(sources)}")
    for index, (name, source) in enumerate(sources.items(), start=1):
        ctx.check_canceled()
        try:
            made[name] = [str(t.path) for t in make_thumbnails(source, ctx.paths.cache_dir, sizes)]
        except ValueError as exc:
            refused[name] = str(exc)
        ctx.progress(index / len(sources), message=f"{index} of {len(sources)}")
    if not made:
        first, reason = next(iter(refused.items()))
        raise JobFailed(f"No thumbnail could be made: {len(refused)} file(s) refused, first: "
                        f"{first}: {reason}.")
    return {"thumbnails": made, "refused": refused}
