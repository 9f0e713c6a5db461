"""Pictures for tests, made with Pillow."""
from __future__ import annotations

from pathlib import Path

from PIL import Image


def make_images(folder: Path, count: int, *, size: int = 64, prefix: str = "img") -> list[Path]:
    """Distinct JPEGs (noise, so each has its own hash and real decoding work)."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for index in range(count):
        path = folder / f"{prefix}-{index:03d}.jpg"
        Image.effect_noise((size, size), 60).convert("RGB").save(path, quality=92)
        paths.append(path)
    return paths


def make_portrait(path: Path, color: tuple[int, int, int] = (200, 120, 150)) -> Path:
    """A simple face-like portrait, for avatars and screenshots."""
    from PIL import ImageDraw
    image = Image.new("RGB", (512, 512), (235, 228, 220))
    draw = ImageDraw.Draw(image)
    draw.ellipse((136, 80, 376, 350), fill=color)
    draw.rectangle((96, 380, 416, 512), fill=tuple(max(c - 60, 0) for c in color))
    draw.ellipse((196, 180, 226, 210), fill=(40, 40, 40))
    draw.ellipse((286, 180, 316, 210), fill=(40, 40, 40))
    draw.arc((210, 230, 302, 300), 20, 160, fill=(90, 30, 40), width=6)
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path)
    return path
