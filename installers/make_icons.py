"""Draws the app icon files the bundles need from resources/icons/app.svg, at build time.

The SVG is a line drawing in ``currentColor``; a desktop icon needs a solid tile, so the glyph is
drawn in white on a rounded square of the theme's highlight blue. Writes app.png (512 px, for
Linux), app.ico (Windows) and app.icns (macOS) into the folder given.

    python installers/make_icons.py OUT_DIR
"""
from __future__ import annotations

import os
import sys
from io import BytesIO
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # a build machine may have no display

from PIL import Image  # noqa: E402
from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QRectF, Qt  # noqa: E402
from PySide6.QtGui import QColor, QGuiApplication, QImage, QPainter  # noqa: E402
from PySide6.QtSvg import QSvgRenderer  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SVG = ROOT / "resources" / "icons" / "app.svg"
TILE = "#3d7bd9"  # the theme's highlight colour
GLYPH = "#ffffff"
ICO_SIZES = [(16, 16), (24, 24), (32, 32), (48, 48), (64, 64), (128, 128), (256, 256)]
MASTER = 1024


def render(size: int) -> Image.Image:
    svg = SVG.read_text(encoding="utf-8").replace("currentColor", GLYPH)
    renderer = QSvgRenderer(QByteArray(svg.encode("utf-8")))
    if not renderer.isValid():
        raise SystemExit(f"error: {SVG} is not a valid SVG")
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor(TILE))
    margin = size * 0.04  # macOS and most Linux themes expect a little air around the tile
    painter.drawRoundedRect(QRectF(margin, margin, size - 2 * margin, size - 2 * margin),
                            size * 0.2, size * 0.2)
    inset = size * 0.18
    renderer.render(painter, QRectF(inset, inset, size - 2 * inset, size - 2 * inset))
    painter.end()
    return _to_pillow(image)


def _to_pillow(image: QImage) -> Image.Image:
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")
    buffer.close()
    return Image.open(BytesIO(bytes(data.data()))).convert("RGBA")


def make_icons(out_dir: Path) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    master = render(MASTER)
    png, ico, icns = out_dir / "app.png", out_dir / "app.ico", out_dir / "app.icns"
    master.resize((512, 512), Image.Resampling.LANCZOS).save(png)
    master.save(ico, sizes=ICO_SIZES)
    master.save(icns)  # Pillow writes the standard sizes from the 1024 px master
    return [png, ico, icns]


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__.strip().splitlines()[-1].strip(), file=sys.stderr)
        return 2
    app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])  # QImage painting needs one
    for path in make_icons(Path(argv[0])):
        print(f"{path} ({path.stat().st_size} bytes)")
    del app
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
