"""The thumbnail cache, the image decoder the engine shares, and the ``make-thumbnails`` job.

Thumbnails are keyed by the image's content hash, so a file that moves or is imported twice
shares one set; a corrupt or hostile file is reported and skipped, never fatal to the job.

Speed: a JPEG is decoded at reduced scale (Pillow's draft mode lets libjpeg scale by 1/2, 1/4
or 1/8 while decoding), which is what makes a 3000×4000 photo cost a few tens of milliseconds.
Draft decoding still reads every entropy-coded block, so a truncated or damaged file is still
found out.

Files: an opaque thumbnail is a JPEG (OpenCV's encoder, ``JPEG_QUALITY``): 0.2 ms for a 256 px
thumbnail and about 30 KB, where a PNG took 1.6–1.9 ms and 85 KB (measured on photos'
thumbnails). One with alpha is a PNG. The cache file's name says neither: every reader
(Pillow, QImage) opens it by its content.
"""
from __future__ import annotations

import hashlib
import os
import zlib
from collections.abc import Generator, Iterable, Sequence
from contextlib import closing
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

from PIL import Image

from studio.engine.datasets.pool import map_ordered
from studio.engine.fsutil import new_temp_file
from studio.engine.jobs.context import JobContext
from studio.engine.jobs.errors import JobFailed
from studio.engine.jobs.payloads import AssetKey
from studio.engine.jobs.registry import job_type
from studio.engine.media.image_limits import ImageTooLarge, open_image, prepare_decode
from studio.engine.storage.local import LocalStore

SIZES = (128, 256)
FOLDER = "thumbnails"  # in the cache folder, one folder per hash's first two digits
MAX_FILES = 100_000
JPEG_QUALITY = 95  # opaque thumbnails' JPEG, colour kept at full resolution (4:4:4): on photos'
# thumbnails 1.5 grey levels from the lossless picture on average (quality 90 with halved colour: 2.9)
PNG_LEVEL = 1  # a thumbnail is tiny; fast compression matters more than a few hundred bytes
# Run-length deflate after PNG's row filters: a third faster than level 1's default strategy
# and about a tenth smaller on photos (measured on 12 MP JPEGs' 256 px thumbnails); lossless.
PNG_STRATEGY = zlib.Z_RLE
ORIENTATION = 0x0112
_TRANSPOSE = {2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180,
              4: Image.Transpose.FLIP_TOP_BOTTOM, 5: Image.Transpose.TRANSPOSE,
              6: Image.Transpose.ROTATE_270, 7: Image.Transpose.TRANSVERSE,
              8: Image.Transpose.ROTATE_90}


@dataclass(frozen=True, slots=True)
class Thumbnail:
    source: Path
    size: int
    path: Path


@dataclass(frozen=True, slots=True)
class Decoded:
    """An image ready to look at: upright (EXIF applied), RGB or RGBA, maybe decoded smaller."""

    image: Image.Image
    width: int   # of the full image, upright
    height: int
    format: str  # Pillow's name: JPEG, PNG, WEBP, …


def thumbnail_path(cache_dir: Path, sha256: str, size: int) -> Path:
    """Where a thumbnail is cached: a JPEG, or a PNG for a picture with alpha (see above)."""
    return cache_dir / FOLDER / sha256[:2] / f"{sha256}-{size}.thumb"


def make_thumbnails(source: Path, cache_dir: Path, sizes: tuple[int, ...] = SIZES) -> list[Thumbnail]:
    """Decodes ``source`` once and writes every missing size; raises ValueError with a reason."""
    data = read_source(source)
    sha = hashlib.sha256(data).hexdigest()
    if any(not _cached(thumbnail_path(cache_dir, sha, s)) for s in sizes):
        write_thumbnails(_picture(source, data, max(sizes)), cache_dir, sha, sizes)
    return [Thumbnail(source, s, thumbnail_path(cache_dir, sha, s)) for s in sizes]


def make_thumbnails_many(sources: Iterable[Path], cache_dir: Path, sizes: tuple[int, ...] = SIZES,
                         *, workers: int | None = None) -> Generator[tuple[Path, list[Thumbnail] | str], None, None]:
    """``make_thumbnails`` of each source on every core, yielded in the order given: the
    thumbnails, or the reason the file was refused. Only a few files per worker are in flight,
    so a folder of any size holds a bounded number of decoded pictures in memory."""
    # Worker processes, not threads: Pillow's Python-side work holds the GIL, and threads stayed
    # near one core (measured in bench/datasets.py).
    tasks = map_ordered(sources, lambda source: (source, cache_dir, sizes), _thumbnails_of,
                        workers=workers)
    with closing(tasks):
        for source, outcome in tasks:
            yield source, str(outcome) if isinstance(outcome, ValueError) else outcome or []


def _thumbnails_of(task: tuple[Path, Path, tuple[int, ...]]) -> list[Thumbnail]:
    return make_thumbnails(*task)


def thumbnail_for(cache_dir: Path, sha256: str, source_path: Path, size: int) -> Path:
    """The cached thumbnail of an image whose hash is known, made now when missing.

    Blocking (tens of milliseconds for a large photo): call it off the UI thread. Raises
    ValueError with a reason when the source cannot be read or decoded.
    """
    target = thumbnail_path(cache_dir, sha256, size)
    if not _cached(target):
        sizes = tuple(sorted({size, *SIZES}))  # the others cost little once decoded
        write_thumbnails(_picture(source_path, None, max(sizes)), cache_dir, sha256, sizes)
    return target


def _picture(source: Path, data: bytes | None, side: int) -> Image.Image:
    """What a thumbnail shows: the picture, or a clip's first frame (ValueError with a reason)."""
    from studio.engine.datasets import video_items  # it builds on this module
    if video_items.is_clip_name(source.name):
        return video_items.first_frame(source)
    return decode_image(data if data is not None else read_source(source), reduce_to=side).image


def write_thumbnails(image: Image.Image, cache_dir: Path, sha256: str,
                     sizes: Sequence[int] = SIZES) -> list[Path]:
    """Writes the missing sizes, each made from the next larger one (cheaper, same look)."""
    paths = []
    current = image
    for size in sorted(set(sizes), reverse=True):
        current = shrunk(current, size)
        target = thumbnail_path(cache_dir, sha256, size)
        if not _cached(target):
            _write_cache_file(target, thumbnail_bytes(current))
        paths.append(target)
    return paths[::-1]


def thumbnail_bytes(image: Image.Image) -> bytes:
    """The thumbnail's file: a JPEG for an RGB or grey picture, a PNG for others (alpha)."""
    if image.mode not in ("RGB", "L"):
        return png_bytes(image)
    import cv2  # here, not above: the app and the CLI import this module and start faster without
    import numpy as np
    pixels = np.asarray(image)
    ok, encoded = cv2.imencode(".jpg", cv2.cvtColor(pixels, cv2.COLOR_RGB2BGR) if image.mode == "RGB" else pixels,
                               [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY,
                                cv2.IMWRITE_JPEG_SAMPLING_FACTOR, cv2.IMWRITE_JPEG_SAMPLING_FACTOR_444])
    if not ok:
        raise ValueError("the thumbnail could not be encoded as JPEG")
    return encoded.tobytes()


def png_bytes(image: Image.Image) -> bytes:
    """The thumbnail's PNG file. RGB(A) goes through OpenCV's encoder with every row Paeth
    filtered: Pillow's tries all five filters on every row, which costs more than the deflate
    on a 256 px thumbnail, and Paeth alone makes files of the same size in two thirds of the
    time (measured on photos' thumbnails). Other modes go through Pillow."""
    if image.mode not in ("RGB", "RGBA"):
        buffer = BytesIO()
        image.save(buffer, format="PNG", compress_level=PNG_LEVEL, compress_type=PNG_STRATEGY)
        return buffer.getvalue()
    import cv2  # here, not above: the app and the CLI import this module and start faster without
    import numpy as np
    to_bgr = cv2.COLOR_RGB2BGR if image.mode == "RGB" else cv2.COLOR_RGBA2BGRA
    ok, encoded = cv2.imencode(".png", cv2.cvtColor(np.asarray(image), to_bgr), [
        cv2.IMWRITE_PNG_COMPRESSION, PNG_LEVEL, cv2.IMWRITE_PNG_STRATEGY, cv2.IMWRITE_PNG_STRATEGY_RLE,
        cv2.IMWRITE_PNG_FILTER, cv2.IMWRITE_PNG_FILTER_PAETH])
    if not ok:
        raise ValueError("the thumbnail could not be encoded as PNG")
    return encoded.tobytes()


def shrunk(image: Image.Image, side: int) -> Image.Image:
    """The picture within ``side``×``side``, aspect kept; a new image, never a full-size copy
    (Image.thumbnail works on a copy, which for a large picture costs as much as decoding it).
    RGB and grey pictures are shrunk by OpenCV's area averaging: at thumbnail sizes it differs
    from Lanczos by one or two grey levels, and costs about half of Pillow's bicubic (Lanczos
    costs more still). Others (alpha, which Pillow premultiplies first) by Pillow's bicubic."""
    scale = min(side / image.width, side / image.height)
    if scale >= 1:
        return image
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    if image.mode in ("RGB", "L"):
        import cv2  # here, not above: the app and the CLI import this module and start faster without
        import numpy as np
        return Image.fromarray(cv2.resize(np.asarray(image), size, interpolation=cv2.INTER_AREA), image.mode)
    return image.resize(size, Image.Resampling.BICUBIC, reducing_gap=2.0)


def read_source(source: Path) -> bytes:
    """The file's bytes, or ValueError with a reason a user understands."""
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


def decode_image(data: bytes, *, reduce_to: int | None = None,
                 formats: Sequence[str] | None = None) -> Decoded:
    """Decodes fully (so damage is found), at reduced scale when ``reduce_to`` allows it.

    ``reduce_to`` is the smallest side length the caller needs on both axes; a JPEG is then
    decoded at the smallest 1/2^n scale that still covers it. ``formats`` limits which
    decoders Pillow may try. Raises ValueError with a reason (ImageTooLarge past the limits).
    """
    try:
        # No ``with``: closing a Pillow image frees its pixels, and a BytesIO holds no handle.
        opened = open_image(data, formats=_known(formats) if formats else None)
        width, height = opened.size
        if width < 1 or height < 1:
            raise ImageTooLarge("an image with no pixels")
        prepare_decode(opened, at_least=(reduce_to, reduce_to) if reduce_to else None, mode="RGB")
        opened.load()
        orientation = orientation_of(opened)
        image = upright(displayable(opened), orientation)
    except ImageTooLarge:
        raise
    except Image.UnidentifiedImageError:
        raise ValueError("not an image, or a format that is not supported") from None
    except MemoryError:
        raise ValueError("too large to decode in memory") from None
    except Exception as exc:
        raise ValueError(f"damaged image ({exc})") from None
    if orientation in (5, 6, 7, 8):
        width, height = height, width
    return Decoded(image=image, width=width, height=height, format=opened.format or "")


def _known(formats: Sequence[str]) -> list[str]:
    """The formats Pillow has an opener for (MPO, for one, opens through JPEG's)."""
    Image.init()
    return [name for name in formats if name in Image.OPEN]


def orientation_of(image: Image.Image) -> int:
    try:
        value = image.getexif().get(ORIENTATION, 1)
    except Exception:
        return 1
    return value if isinstance(value, int) else 1


def upright(image: Image.Image, orientation: int) -> Image.Image:
    """The image as a viewer shows it, given its EXIF orientation (1 to 8)."""
    method = _TRANSPOSE.get(orientation)
    return image.transpose(method) if method is not None else image


def displayable(image: Image.Image) -> Image.Image:
    """CMYK, palette, 16-bit and grey images become RGB(A) for a PNG thumbnail."""
    if image.mode in ("RGB", "RGBA"):
        return image
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        return image.point(lambda v: v / 256).convert("L").convert("RGB")
    if image.mode == "F":
        return image.point(lambda v: v * 255 if v <= 1.0 else v).convert("L").convert("RGB")
    has_alpha = image.mode in ("LA", "PA", "La", "RGBa") or (
        image.mode == "P" and "transparency" in image.info)
    return image.convert("RGBA" if has_alpha else "RGB")


def _cached(path: Path) -> bool:
    try:
        return path.stat().st_size > 0
    except OSError:
        return False


def _write_cache_file(target: Path, data: bytes) -> None:
    """Atomic rename without fsync: a cache file lost in a power cut is simply made again,
    and a zero-length leftover counts as missing (see ``_cached``)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = new_temp_file(target.parent, target.name)  # the cache follows the umask
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@dataclass(frozen=True, slots=True)
class ThumbnailPayload:
    files: tuple[Path, ...] = ()  # paths on the worker's machine (its cache warms for them)
    keys: tuple[AssetKey, ...] = ()  # files in the asset store: any machine can run the job
    sizes: tuple[int, ...] = SIZES


@dataclass(frozen=True, slots=True)
class ThumbnailResult:
    thumbnails: dict[str, tuple[str, ...]]  # source → the cached thumbnails' paths, by size
    refused: dict[str, str]  # source → why


def _sources(ctx: JobContext, payload: ThumbnailPayload) -> dict[str, Path]:
    store = LocalStore(ctx.paths.assets_dir)
    sources = {str(f): Path(f) for f in payload.files}
    sources.update({str(key): store.path(key) for key in payload.keys})
    if not sources:
        raise JobFailed("No files were given to make thumbnails of.")
    if len(sources) > MAX_FILES:
        raise JobFailed(f"Too many files in one job ({len(sources)}; at most {MAX_FILES}).")
    return sources


@job_type("make-thumbnails", queue="general", payload=ThumbnailPayload, result=ThumbnailResult)
def run_make_thumbnails(ctx: JobContext, payload: ThumbnailPayload) -> ThumbnailResult:
    sources = _sources(ctx, payload)
    sizes = payload.sizes
    made: dict[str, tuple[str, ...]] = {}
    refused: dict[str, str] = {}
    ctx.progress(0.0, stage="thumbnails", message=f"0 of {len(sources)}")
    with closing(make_thumbnails_many(sources.values(), ctx.paths.cache_dir, sizes)) as outcomes:
        for index, (name, (_, outcome)) in enumerate(zip(sources, outcomes, strict=True), start=1):
            if isinstance(outcome, str):
                refused[name] = outcome
            else:
                made[name] = tuple(str(t.path) for t in outcome)
            ctx.progress(index / len(sources), message=f"{index} of {len(sources)}")
            ctx.check_canceled()  # the few files in flight finish, then the job stops
    if not made:
        first, reason = next(iter(refused.items()))
        raise JobFailed(f"No thumbnail could be made: {len(refused)} file(s) refused, first: "
                        f"{first}: {reason}.")
    return ThumbnailResult(thumbnails=made, refused=refused)
