"""The hostile corpus for ``make fuzz``: the bad-input corpus plus names that forge terminal lines
or colours, damaged PNG/JPEG, a PNG of huge dimensions, links, and zip entries that climb out."""
from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

from tests.engine.datasets.corpus import bad_input_corpus, huge_png, jpeg_bytes, noise, save

NEWLINE_NAME = "forged\nrefused  /etc/hosts: made-up line.png"
ESCAPE_NAME = "\x1b[31mred\x1b[0m \x1b]0;title\x07.jpg"


def _png_bytes(seed: int) -> bytes:
    buffer = io.BytesIO()
    noise((200, 150), seed=seed).save(buffer, format="PNG")
    return buffer.getvalue()


def hostile_corpus(root: Path) -> dict[str, tuple[str, str]]:
    """Makes ``root/drop`` (and ``root/outside``); returns source name → (status, reason part)."""
    expect = bad_input_corpus(root)
    drop = root / "drop"
    if os.geteuid() == 0:  # root reads a mode-000 file anyway
        expect["locked.jpg"] = ("imported", "")
    save(drop / NEWLINE_NAME, noise(seed=40))
    save(drop / ESCAPE_NAME, noise(seed=41), quality=90)
    expect[NEWLINE_NAME] = expect[ESCAPE_NAME] = ("imported", "")
    png = _png_bytes(42)
    (drop / "truncated.png").write_bytes(png[: len(png) // 2])
    expect["truncated.png"] = ("refused", "damaged image")
    (drop / "bad crc.png").write_bytes(png[:200] + bytes([png[200] ^ 0xFF]) + png[201:])
    expect["bad crc.png"] = ("refused", "damaged image")
    jpeg = jpeg_bytes(noise((400, 300), seed=43), quality=90)
    (drop / "no frame.jpg").write_bytes(jpeg[:2] + b"\xff\xc0\x00\x11\x08\xff\xff\xff\xff" + jpeg[13:])
    expect["no frame.jpg"] = ("refused", "not an image")
    middle = len(jpeg) // 2  # entropy data zeroed: libjpeg decodes it, grey blocks and all
    (drop / "zeroed.jpg").write_bytes(jpeg[:middle] + bytes(100) + jpeg[middle + 100:])
    expect["zeroed.jpg"] = ("imported", "")
    huge_png(drop / "huge.png")
    expect["huge.png"] = ("refused", "too large to decode (13000×13000 pixels take 645 MB")
    os.symlink(drop / "good.jpg", drop / "inner link.jpg")
    os.symlink("loop.png", drop / "loop.png")
    expect["inner link.jpg"] = expect["loop.png"] = ("refused", "symbolic link")
    with zipfile.ZipFile(drop / "climb.zip", "w") as archive:
        archive.writestr("../../../outside/climbed.png", _png_bytes(44))
        archive.writestr("ok/../../up.png", _png_bytes(45))
        archive.writestr("zip\nline.png", _png_bytes(46))
    expect.update({
        "climb.zip/../../../outside/climbed.png": ("refused", "unsafe path in archive"),
        "climb.zip/ok/../../up.png": ("refused", "unsafe path in archive"),
        "climb.zip/zip\nline.png": ("imported", ""),
    })
    return expect
