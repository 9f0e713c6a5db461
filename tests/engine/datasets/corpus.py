"""Test images made on the spot: good ones of every kind, a real face, and a bad-input corpus."""
from __future__ import annotations

import os
import struct
import zipfile
import zlib
from pathlib import Path

import numpy as np
from PIL import Image, ImageFilter

from studio.engine.datasets.importer import accepted_formats

HOSTILE_NAME = "ünï cødé $(rm -rf ~); 'q' \"dq\" `tick` & | ; .jpg"
BAD_BYTES_NAME = b"bad \xff\xfe name.jpg"  # not valid UTF-8, as old zips and cameras make them


def noise(size: tuple[int, int] = (64, 48), seed: int = 0, mode: str = "RGB") -> Image.Image:
    """A distinct picture per seed, so two builders never make the same content by accident."""
    rng = np.random.default_rng(seed)
    pixels = rng.integers(0, 256, size=(size[1], size[0], 3), dtype=np.uint8)
    return Image.fromarray(pixels).convert(mode)


def scene(size: tuple[int, int] = (320, 240), seed: int = 0) -> Image.Image:
    """Smooth shapes with edges: what phash and sharpness see in a real photo."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:size[1], 0:size[0]]
    image = np.zeros((size[1], size[0], 3), dtype=np.float64)
    for _ in range(6):
        cx, cy, r = rng.uniform(0, size[0]), rng.uniform(0, size[1]), rng.uniform(20, 90)
        image[(x - cx) ** 2 + (y - cy) ** 2 < r * r] = rng.uniform(0, 255, 3)
    return Image.fromarray(image.astype(np.uint8))


def astronaut() -> Image.Image:
    """A real photo of a face (Eileen Collins, public domain), 512×512."""
    from skimage import data
    return Image.fromarray(data.astronaut())


def blurred(image: Image.Image, radius: float = 4) -> Image.Image:
    return image.filter(ImageFilter.GaussianBlur(radius))


def save(path: Path, image: Image.Image, **options: object) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, **options)
    return path


def png_bomb(path: Path, side: int = 30_000, height: int | None = None) -> Path:
    """A few hundred bytes that claim side×side pixels: refused before anything is decoded."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    header = struct.pack(">IIBBBBB", side, height or side, 8, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
                     + chunk(b"IDAT", zlib.compress(b"\x00" * 1000)) + chunk(b"IEND", b""))
    return path


def symlink_entry(archive: zipfile.ZipFile, name: str, target: str) -> None:
    info = zipfile.ZipInfo(name)
    info.create_system = 3
    info.external_attr = (0o120777 << 16)
    archive.writestr(info, target)


def jpeg_bytes(image: Image.Image, **options: object) -> bytes:
    from io import BytesIO
    buffer = BytesIO()
    image.save(buffer, format="JPEG", **options)
    return buffer.getvalue()


def bad_input_corpus(root: Path) -> dict[str, tuple[str, str]]:
    """Makes ``root/drop`` and returns what the report must say: source name → (status, reason).

    Source names are relative to ``drop``; a zip member's is ``archive.zip/<member>``.
    """
    drop = root / "drop"
    outside = root / "outside"
    save(outside / "secret.jpg", noise(seed=99), quality=90)
    expect: dict[str, tuple[str, str]] = {}

    def good(name: str, seed: int, **options: object) -> None:
        save(drop / name, noise(seed=seed), **options)
        expect[name] = ("imported", "")

    good("good.jpg", 1, quality=90)
    (drop / "good.txt").write_text("mia, smiling, red dress\n", encoding="utf-8")
    good("good.png", 2)
    good("good.webp", 3, lossless=True)
    good("good.bmp", 4)
    good("good.tiff", 5)
    good("sub/deeper/nested.jpg", 6)
    good(HOSTILE_NAME, 7)
    (drop / "later copy of good.jpg").write_bytes((drop / "good.jpg").read_bytes())
    expect["later copy of good.jpg"] = ("duplicate", "already in this dataset")

    (drop / "empty.jpg").write_bytes(b"")
    expect["empty.jpg"] = ("refused", "empty file (0 bytes)")
    (drop / "truncated.jpg").write_bytes(jpeg_bytes(noise((400, 300), seed=8))[:2000])
    expect["truncated.jpg"] = ("refused", "damaged image")
    (drop / "letter.png").write_text("Dear Mia, this is not a picture.")
    expect["letter.png"] = ("refused", "not an image")
    save(drop / "animation.jpg", noise(seed=9), format="GIF")  # a GIF in disguise
    expect["animation.jpg"] = ("refused", "not an image")
    png_bomb(drop / "bomb.png")
    expect["bomb.png"] = ("refused", "decompression bomb")
    (drop / "photo.heic").write_bytes(b"\x00\x00\x00\x18ftypheic" + b"\x00" * 64)
    expect["photo.heic"] = ("refused", "" if "HEIF" in accepted_formats() else
                            "HEIC is not supported here (install pillow-heif)")
    if "AVIF" in accepted_formats():  # built into recent Pillow wheels
        good("good.avif", 15, quality=90)
    else:
        (drop / "good.avif").write_bytes(b"\x00\x00\x00\x1cftypavif" + b"\x00" * 64)
        expect["good.avif"] = ("refused", "AVIF is not supported here")
    (drop / "notes.pdf").write_bytes(b"%PDF-1.4\n")
    expect["notes.pdf"] = ("refused", "not a supported image type (.pdf)")
    (drop / "orphan.txt").write_text("a caption with no picture")
    expect["orphan.txt"] = ("refused", "caption file without an image")
    save(drop / "locked.jpg", noise(seed=10), quality=90).chmod(0)
    expect["locked.jpg"] = ("refused", "permission denied")
    os.symlink(outside / "secret.jpg", drop / "link.jpg")
    expect["link.jpg"] = ("refused", "symbolic link")
    os.symlink(outside, drop / "linked folder")
    expect["linked folder"] = ("refused", "symbolic link")
    os.mkfifo(drop / "pipe.jpg")
    expect["pipe.jpg"] = ("refused", "not a regular file")
    save(Path(os.fsdecode(bytes(drop) + b"/" + BAD_BYTES_NAME)), noise(seed=11), format="JPEG")
    expect["bad \ufffd\ufffd name.jpg"] = ("imported", "")

    (drop / "broken.zip").write_bytes(b"PK\x03\x04 not really a zip")
    expect["broken.zip"] = ("refused", "not a readable zip archive")
    with zipfile.ZipFile(drop / "archive.zip", "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("in zip/ok.jpg", jpeg_bytes(noise(seed=12)))
        archive.writestr("in zip/ok.txt", "mia, beach")
        archive.writestr("../escape.jpg", jpeg_bytes(noise(seed=13)))
        archive.writestr("/etc/absolute.jpg", jpeg_bytes(noise(seed=14)))
        archive.writestr("inner.zip", b"PK\x05\x06" + b"\x00" * 18)
        archive.writestr("zero.png", b"")
        archive.writestr("garbage.jpg", b"\xff\xd8\xff garbage")
        symlink_entry(archive, "link.jpg", "../../outside/secret.jpg")
    expect.update({
        "archive.zip/in zip/ok.jpg": ("imported", ""),
        "archive.zip/../escape.jpg": ("refused", "unsafe path in archive"),
        "archive.zip//etc/absolute.jpg": ("refused", "unsafe path in archive"),
        "archive.zip/inner.zip": ("refused", "archive inside an archive"),
        "archive.zip/zero.png": ("refused", "empty file (0 bytes)"),
        "archive.zip/garbage.jpg": ("refused", "not an image"),
        "archive.zip/link.jpg": ("refused", "symbolic link"),
    })
    return expect


def huge_png(path: Path, side: int = 13_000) -> Path:
    """A real, valid side×side RGBA PNG of one colour: under a megabyte on disk, 676 MB decoded
    at 13000. Written row by row, so making it costs the test no memory."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    row = b"\x00" + bytes((200, 80, 40, 255)) * side
    packer = zlib.compressobj(9)
    data = b"".join([*(packer.compress(row) for _ in range(side)), packer.flush()])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", side, side, 8, 6, 0, 0, 0))
                     + chunk(b"IDAT", data) + chunk(b"IEND", b""))
    return path
