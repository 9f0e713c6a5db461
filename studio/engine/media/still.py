"""Still pictures for the platforms: the same presets as video (Instagram 4:5 and 1:1, 9:16
story, …), as sRGB JPEG, framed by cropping around a focus point or fitted on a blurred copy.

What a picture carries besides its pixels goes unless the user keeps it: EXIF (camera, GPS)
and the generation recipe ComfyUI writes into PNG text chunks ("prompt", "workflow").
"""
from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageCms, ImageFilter, ImageOps, UnidentifiedImageError

from studio.engine.errors import InvalidInput
from studio.engine.fsutil import atomic_write_bytes
from studio.engine.media.framing import fill_box
from studio.engine.media.image_limits import (
    ImageTooLarge,
    covering,
    open_image,
    prepare_decode,
    reduced,
)
from studio.engine.media.presets import ExportPreset
from studio.engine.media.thumbnails import orientation_of
from studio.engine.media.thumbnails import upright as turned

FITS = ("crop", "blur")
JPEG_QUALITY = 92
_BLUR_RADIUS = 40
_TEXT_KEYS = ("parameters", "prompt", "workflow")  # where generators put their recipe


@dataclass(frozen=True, slots=True)
class StillResult:
    path: Path
    width: int
    height: int
    metadata_kept: bool


def export_still(source: Path, preset: ExportPreset, target: Path, *, fit: str = "crop",
                 focus: tuple[float, float] = (0.5, 0.5), keep_metadata: bool = False,
                 quality: int = JPEG_QUALITY) -> StillResult:
    """Writes ``target`` (atomically) as the preset's frame; the source is never changed."""
    if fit not in FITS:
        raise InvalidInput(f"Unknown fit '{fit}'; one of {', '.join(FITS)}.")
    if not all(0.0 <= f <= 1.0 for f in focus):
        raise InvalidInput("The focus point is two fractions of the picture, from 0 to 1.")
    size = (preset.width, preset.height)
    picture = _open(source, size)
    exif = picture.getexif()
    recipe = {k: str(v) for k, v in picture.info.items() if k in _TEXT_KEYS}
    orientation = orientation_of(picture)
    # Shrunk before any colour work, so a large picture is copied only at the size it is needed.
    upright = _srgb(turned(reduced(picture, covering(picture.size, size)), orientation))
    framed = _crop(upright, size, focus) if fit == "crop" else _fit_on_blur(upright, size)
    options: dict[str, object] = {"quality": quality, "optimize": True,
                                  "icc_profile": _SRGB_BYTES}
    if keep_metadata:
        exif.pop(0x0112, None)  # the pixels are upright now: an orientation would turn them again
        options["exif"] = exif.tobytes()
        if recipe:
            options["comment"] = "\n".join(f"{k}: {v}" for k, v in recipe.items()).encode("utf-8")
    buffer = io.BytesIO()
    framed.save(buffer, format="JPEG", **options)
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(target, buffer.getvalue())
    return StillResult(target, size[0], size[1], keep_metadata)


def _open(source: Path, frame: tuple[int, int]) -> Image.Image:
    """The picture decoded (a JPEG at the smallest scale that still fills ``frame``), within the
    studio's limits on pixels and memory."""
    name = Path(source).name
    try:
        picture = open_image(Path(source))
        prepare_decode(picture, at_least=covering(picture.size, frame))
        picture.load()
    except FileNotFoundError:
        raise InvalidInput(f"{source} does not exist.") from None
    except ImageTooLarge as exc:
        raise InvalidInput(f"{name} is not exported: {exc}.") from None
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise InvalidInput(f"{name} is not a picture that can be read ({exc}).") from None
    return picture


_SRGB = ImageCms.createProfile("sRGB")
_SRGB_BYTES = ImageCms.ImageCmsProfile(_SRGB).tobytes()


def _srgb(picture: Image.Image) -> Image.Image:
    """RGB in sRGB: an embedded colour profile (Display P3, Adobe RGB) is converted, not dropped,
    so colours look the same on the platform; transparency goes onto white."""
    if picture.mode in ("RGBA", "LA") or (picture.mode == "P" and "transparency" in picture.info):
        rgba = picture.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        picture = Image.alpha_composite(white, rgba)
    profile = picture.info.get("icc_profile")
    rgb = picture.convert("RGB")
    if profile:
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(profile))
            rgb = ImageCms.profileToProfile(rgb, source, _SRGB, outputMode="RGB") or rgb
        except (ImageCms.PyCMSError, OSError):
            pass  # a broken profile: keep the numbers as they are
    return rgb


def _crop(picture: Image.Image, size: tuple[int, int], focus: tuple[float, float]) -> Image.Image:
    """The part the crop rule keeps (as a video export would), scaled to the frame."""
    box = fill_box(source=(picture.width, picture.height), frame=size, focus=focus)
    return picture.resize(size, Image.Resampling.LANCZOS, box=box.corners())


def _fit_on_blur(picture: Image.Image, size: tuple[int, int]) -> Image.Image:
    """The whole picture, centred, on a blurred copy of itself that fills the frame."""
    background = _crop(picture, size, (0.5, 0.5)).filter(ImageFilter.GaussianBlur(_BLUR_RADIUS))
    contained = ImageOps.contain(picture, size, Image.Resampling.LANCZOS)
    background.paste(contained, ((size[0] - contained.width) // 2, (size[1] - contained.height) // 2))
    return background
