"""An estimate of the GPU memory a workflow template needs, shown before it is queued.

It is an estimate, not a measurement: the diffusion model's weights at the precision it is
loaded in, plus the working memory of sampling, which grows with the picture's pixels (and a
clip's frames), plus a fixed margin for ComfyUI and the VAE. Text encoders run before sampling
and ComfyUI moves them out of VRAM when the diffusion model needs the room, so they count only
when they are the larger of the two. The figures are the published model sizes (FLUX.1 dev 12B
parameters, Qwen-Image 20B, Wan 2.2 A14B and TI2V-5B, SD 3.5 Large 8B) at two bytes a parameter
and one in fp8; the working memory per megapixel is a round figure for ComfyUI's attention at
that size, on the generous side.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from studio.engine.comfyui.workflows import WorkflowTemplate

_MARGIN_GB = 1.0  # ComfyUI's own context, the VAE decode and fragmentation
_FRAME_NAMES = ("frames", "length", "num_frames")
_FP8 = "fp8"


@dataclass(frozen=True, slots=True)
class FamilyMemory:
    title: str
    model_gb: float  # the diffusion model (the UNet for SD 1.5/SDXL) at 16 bits
    text_gb: float  # the text encoders as the templates load them
    per_megapixel_gb: float  # sampling's working memory per megapixel (per latent frame for video)
    video: bool = False


FAMILIES: dict[str, FamilyMemory] = {
    "sd15": FamilyMemory("SD 1.5", 1.7, 0.3, 1.5),
    "sdxl": FamilyMemory("SDXL", 5.1, 1.6, 1.5),
    "flux1": FamilyMemory("FLUX.1", 23.8, 9.8, 2.0),
    "sd35": FamilyMemory("SD 3.5", 16.3, 11.4, 2.0),
    "qwen_image": FamilyMemory("Qwen-Image", 40.9, 9.4, 2.5),
    "wan22_14b": FamilyMemory("Wan 2.2 14B", 28.6, 6.7, 0.4, video=True),
    "wan22_5b": FamilyMemory("Wan 2.2 5B", 10.0, 6.7, 0.3, video=True),
}


@dataclass(frozen=True, slots=True)
class VramEstimate:
    family: str
    gb: float  # the estimated peak, in GB (10**9 bytes)
    fp8: bool  # the diffusion model loads with 8-bit weights
    width: int
    height: int
    frames: int = 1
    fp8_gb: float | None = None  # the same with fp8 weights, when it is not fp8 already
    by_area: bool = False  # sized by the input picture's area (an edit), not a set width/height

    @property
    def line(self) -> str:
        """One readable line: what it needs and, when it would help, what fp8 weights need."""
        title = FAMILIES[self.family].title
        clip = f", {self.frames} frames" if self.frames > 1 else ""
        weights = "fp8" if self.fp8 else "16-bit"
        size = (f"about {self.width * self.height / 1e6:.1f} megapixels" if self.by_area
                else f"{self.width}×{self.height}")
        text = (f"VRAM needed: about {self.gb:.0f} GB (an estimate for {title} at "
                f"{size}{clip}, {weights} weights)")
        if self.fp8_gb is not None:
            text += f"; about {self.fp8_gb:.0f} GB with fp8 weights (weight_dtype fp8_e4m3fn)"
        return text + "."


def estimate(family: str, width: int, height: int, *, fp8: bool = False, batch: int = 1,
             frames: int = 1, by_area: bool = False) -> VramEstimate | None:
    """The estimate for a family at this size; None for a family without figures ("other")."""
    memory = FAMILIES.get(family)
    if memory is None or width <= 0 or height <= 0:
        return None
    peak = _peak(memory, width, height, fp8=fp8, batch=batch, frames=frames)
    lighter = None if fp8 or memory.model_gb < 8 else _peak(memory, width, height, fp8=True,
                                                              batch=batch, frames=frames)
    return VramEstimate(family, round(peak, 1), fp8, width, height, max(frames, 1),
                        round(lighter, 1) if lighter is not None else None, by_area)


def estimate_for(template: WorkflowTemplate, values: dict[str, object]) -> VramEstimate | None:
    """The estimate for a template run with these values (the template's defaults for the rest)."""
    def value(name: str) -> object:
        if values.get(name) not in (None, ""):
            return values[name]
        param = template.parameters.get(name)
        return param.default if param is not None else None

    width, height = _size(value("width"), value("height"), value("megapixels"))
    by_area = not (_number(value("width")) and _number(value("height")))
    frames = next((n for n in (_number(value(name)) for name in _FRAME_NAMES) if n), 1)
    unet = template.models.get("unet")
    model = str(value("model") or (unet.file if unet else ""))
    fp8 = str(value("weight_dtype") or "").startswith(_FP8) or _FP8 in model.lower()
    return estimate(template.base, width, height, fp8=fp8,
                    batch=_number(value("batch_size")) or 1, frames=frames, by_area=by_area)


def _peak(memory: FamilyMemory, width: int, height: int, *, fp8: bool, batch: int,
          frames: int) -> float:
    weights = memory.model_gb / 2 if fp8 else memory.model_gb
    # Wan's VAE packs 4 frames into one latent frame (plus the first).
    latent_frames = (max(frames, 1) - 1) // 4 + 1 if memory.video else 1
    working = memory.per_megapixel_gb * width * height / 1e6 * max(batch, 1) * latent_frames
    return max(memory.text_gb, weights + working) + _MARGIN_GB


def _size(width: object, height: object, megapixels: object) -> tuple[int, int]:
    """The picture's size; one sized by the input picture counts as a square of its area."""
    w, h = _number(width), _number(height)
    if w and h:
        return w, h
    area = _float(megapixels) or 1.0  # Kontext scales the reference to about one megapixel
    side = round((area * 1e6) ** 0.5)
    return side, side


def _number(value: object) -> int:
    try:
        return int(str(value)) if value not in (None, "") else 0
    except ValueError:
        return 0


def _float(value: object) -> float:
    try:
        return float(str(value)) if value not in (None, "") else 0.0
    except ValueError:
        return 0.0
