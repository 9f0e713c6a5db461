"""What a dropped path holds: files, folders and zip archives turned into entries to import.

Nothing here writes anything. Symbolic links are never followed, archive members are read by
their checked names into memory with a size budget (zip bombs), and every file that cannot be
imported becomes an entry that carries the reason.
"""
from __future__ import annotations

import logging
import os
import stat
import zipfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from functools import cache, partial
from pathlib import Path, PurePosixPath

from studio.engine.datasets.caption_text import MAX_CAPTION_BYTES, CaptionText, caption_from_bytes
from studio.engine.datasets.video_items import CLIP_SUFFIXES
from studio.engine.media.thumbnails import read_source

log = logging.getLogger("studio.datasets")

MAX_FILE_BYTES = 256 * 2**20
MAX_ARCHIVE_BYTES = 32 * 2**30  # all members of one archive together, as actually unpacked
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".jpe", ".jfif", ".png", ".webp", ".bmp", ".tif", ".tiff"}
BASE_FORMATS = {"JPEG": ".jpg", "MPO": ".jpg", "PNG": ".png", "WEBP": ".webp", "BMP": ".bmp",
                "TIFF": ".tif"}


@dataclass(frozen=True, slots=True)
class Entry:
    """One file found in what was dropped: readable, or already refused."""

    source: str        # shown in the report: a path, or "archive.zip/member"
    source_name: str   # relative to the dropped folder or archive, shown in the grid
    read: Callable[[], bytes] | None = None  # raises ValueError with a reason
    caption: Callable[[], CaptionText] | None = None
    refusal: str = ""


def gather(path: Path, stack: ExitStack) -> Iterator[Entry]:
    """The entries of one dropped path, in a stable order."""
    shown, name = _text(str(path)), _text(path.name)
    if path.is_symlink():
        yield Entry(shown, name, refusal="symbolic link")
    elif not path.exists():
        yield Entry(shown, name, refusal="not found")
    elif path.is_dir():
        yield from _walk_folder(path, "", stack)
    elif path.is_file() and classify(path.name) == "archive":  # names relative to the archive
        yield from _archive_entries(path, shown, "", stack)
    elif path.is_file():
        yield from _file_entries(path, name, _beside(path), stack)
    else:
        yield Entry(shown, name, refusal="not a regular file")


def _walk_folder(folder: Path, prefix: str, stack: ExitStack) -> Iterator[Entry]:
    try:
        with os.scandir(folder) as scan:
            children = sorted(scan, key=lambda e: e.name)
    except OSError as exc:
        reason = "permission denied" if isinstance(exc, PermissionError) else \
            f"folder cannot be read ({exc.strerror or exc})"
        yield Entry(_text(str(folder)), prefix.rstrip("/") or _text(folder.name), refusal=reason)
        return
    files = _Neighbours.of({c.name for c in children if c.is_file(follow_symlinks=False)})
    subfolders = []
    for child in children:
        relative = prefix + _text(child.name)
        if child.is_symlink():  # never followed: it could lead anywhere outside the tree
            yield Entry(_text(child.path), relative, refusal="symbolic link")
        elif child.is_dir(follow_symlinks=False):
            subfolders.append((Path(child.path), relative + "/"))
        elif child.name in files.names:
            yield from _file_entries(Path(child.path), relative, files, stack)
        else:
            yield Entry(_text(child.path), relative, refusal="not a regular file")
    for path, relative in subfolders:
        yield from _walk_folder(path, relative, stack)


def _file_entries(path: Path, relative: str, siblings: _Neighbours, stack: ExitStack) -> Iterator[Entry]:
    shown = _text(str(path))
    kind = classify(path.name)
    if kind == "archive":
        yield from _archive_entries(path, shown, relative + "/", stack)
    elif kind == "caption":
        if PurePosixPath(path.name).stem not in siblings.stems:
            yield Entry(shown, relative, refusal="caption file without an image of the same name")
    elif kind != "image":
        yield Entry(shown, relative, refusal=kind)
    else:
        caption_name = _caption_name(path.name)
        caption = (partial(_read_caption, path.with_name(caption_name))
                   if caption_name in siblings.names else None)
        yield Entry(shown, relative, read=partial(_read_disk, path), caption=caption)


@dataclass(frozen=True, slots=True)
class _Neighbours:
    """The files of one folder, and the stems a .txt there can be the caption of."""

    names: frozenset[str]
    stems: frozenset[str]

    @classmethod
    def of(cls, names: set[str]) -> _Neighbours:
        stems = {PurePosixPath(n).stem for n in names if classify(n) != "caption"}
        return cls(frozenset(names), frozenset(stems))


def _beside(path: Path) -> _Neighbours:
    """The neighbours of a dropped file that matter, without listing its folder per image."""
    if classify(path.name) == "caption":
        try:
            return _Neighbours.of({p.name for p in path.parent.iterdir()
                                   if p.is_file() and not p.is_symlink()})
        except OSError:
            return _Neighbours.of(set())
    caption = path.with_name(_caption_name(path.name))
    return _Neighbours.of({caption.name} if caption.is_file() and not caption.is_symlink() else set())


def _read_disk(path: Path) -> bytes:
    try:
        size = path.lstat().st_size
    except OSError as exc:
        raise ValueError(f"cannot be read ({exc.strerror or exc})") from None
    if size > MAX_FILE_BYTES:
        raise ValueError(_too_large(size))
    return read_source(path)


def _read_caption(path: Path) -> CaptionText:
    try:
        with path.open("rb") as handle:  # one byte past the limit tells a caption that is over it
            return caption_from_bytes(handle.read(MAX_CAPTION_BYTES + 1),
                                      size=os.fstat(handle.fileno()).st_size)
    except OSError as exc:  # the image is still worth importing without its caption
        log.warning("caption %s could not be read: %s", path, exc)
        return CaptionText("", f"caption not read: {exc.strerror or exc}")


# Zip archives -----------------------------------------------------------------------------------


@dataclass(slots=True)
class _Budget:
    """Bytes an archive may still unpack; what stops a zip bomb whatever its headers claim."""

    left: int


def _archive_entries(path: Path, shown: str, prefix: str, stack: ExitStack) -> Iterator[Entry]:
    try:
        archive = stack.enter_context(zipfile.ZipFile(path))
        members = [info for info in archive.infolist() if not info.is_dir()]
    except PermissionError:
        yield Entry(shown, prefix.rstrip("/"), refusal="permission denied")
        return
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        yield Entry(shown, prefix.rstrip("/"), refusal=f"not a readable zip archive ({exc})")
        return
    budget = _Budget(MAX_ARCHIVE_BYTES)
    safe = {name: info for info in members if (name := _safe_member(info.filename)) is not None}
    stems = {str(PurePosixPath(n).with_suffix("")) for n in safe if classify(n) != "caption"}
    for info in members:
        entry = _member_entry(archive, info, f"{shown}/{_text(info.filename)}", prefix,
                              (safe, stems), budget)
        if entry is not None:
            yield entry


def _member_entry(archive: zipfile.ZipFile, info: zipfile.ZipInfo, shown: str, prefix: str,
                  index: tuple[dict[str, zipfile.ZipInfo], set[str]], budget: _Budget) -> Entry | None:
    """``index``: the archive's members by safe name, and their paths without extension."""
    safe, stems = index
    name = _safe_member(info.filename)
    if name is None:  # never written by its name anyway, but a user should know it was there
        return Entry(shown, _text(info.filename), refusal="unsafe path in archive (absolute or '..')")
    relative = prefix + _text(name)
    kind = classify(name)
    if stat.S_ISLNK(info.external_attr >> 16):
        return Entry(shown, relative, refusal="symbolic link")
    if info.flag_bits & 0x1:
        return Entry(shown, relative, refusal="encrypted archive entry (password protected)")
    if kind == "archive":
        return Entry(shown, relative, refusal="archive inside an archive (unpack it first)")
    if kind == "caption":
        if str(PurePosixPath(name).with_suffix("")) in stems:
            return None  # read with its image
        return Entry(shown, relative, refusal="caption file without an image of the same name")
    if kind != "image":
        return Entry(shown, relative, refusal=kind)
    caption_info = safe.get(str(PurePosixPath(name).with_name(_caption_name(PurePosixPath(name).name))))
    caption = partial(_read_member_caption, archive, caption_info, budget) if caption_info else None
    return Entry(shown, relative, read=partial(_read_member, archive, info, budget), caption=caption)


def _safe_member(name: str) -> str | None:
    """The member's path inside the archive, or None when it is absolute or climbs out."""
    unified = name.replace("\\", "/")
    if "\x00" in unified or unified.startswith("/") or (len(unified) > 1 and unified[1] == ":"):
        return None
    parts = [part for part in unified.split("/") if part not in ("", ".")]
    if not parts or ".." in parts:
        return None
    return "/".join(parts)


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, budget: _Budget) -> bytes:
    if info.file_size == 0:
        raise ValueError("empty file (0 bytes)")
    if info.file_size > MAX_FILE_BYTES:
        raise ValueError(_too_large(info.file_size))
    limit = min(MAX_FILE_BYTES, budget.left)
    if info.file_size > limit:
        raise ValueError(f"the archive unpacks to more than {MAX_ARCHIVE_BYTES // 2**20} MB; "
                         "the rest of it is not read")
    data = _unpack(archive, info, limit)
    if len(data) > info.file_size:  # the header lied about the size: a zip bomb
        raise ValueError("unpacks to more than its header says (possible zip bomb)")
    budget.left -= len(data)
    if not data:
        raise ValueError("empty file (0 bytes)")
    return data


def _read_member_caption(archive: zipfile.ZipFile, info: zipfile.ZipInfo,
                         budget: _Budget) -> CaptionText:
    try:
        data = _unpack(archive, info, min(MAX_CAPTION_BYTES, budget.left))
    except ValueError as exc:
        log.warning("caption %s could not be read: %s", info.filename, exc)
        return CaptionText("", f"caption not read: {exc}")
    budget.left -= len(data)
    return caption_from_bytes(data, size=info.file_size)


def _unpack(archive: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int) -> bytes:
    """At most ``limit`` + 1 bytes of the member, so memory stays bounded."""
    try:
        with archive.open(info) as handle:
            return handle.read(limit + 1)
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError, NotImplementedError,
            RuntimeError, ValueError) as exc:
        raise ValueError(f"damaged archive entry ({exc})") from None


# Names ------------------------------------------------------------------------------------------


def classify(name: str) -> str:
    """"image", "caption", "archive", or the reason a file of this type is refused."""
    suffix = PurePosixPath(name).suffix.lower()
    if suffix in IMAGE_SUFFIXES or suffix in _optional_suffixes() or suffix in CLIP_SUFFIXES:
        return "image"  # clips go the pictures' way (captions beside them, archives, reports)
    if suffix == ".txt":
        return "caption"
    if suffix == ".zip":
        return "archive"
    return _optional_reasons().get(suffix) or \
        f"not a supported image type ({suffix or 'no extension'})"


def _caption_name(image_name: str) -> str:
    return PurePosixPath(image_name).stem + ".txt"


def _too_large(size: int) -> str:
    return f"too large ({size // 2**20} MB; at most {MAX_FILE_BYTES // 2**20} MB)"


def _text(value: str) -> str:
    """A name as text that can be stored and shown: undecodable bytes become U+FFFD."""
    return value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


# Formats ----------------------------------------------------------------------------------------


@cache
def accepted_formats() -> dict[str, str]:
    """Pillow format name → extension of the stored original; HEIC/AVIF when a plugin is here."""
    formats = dict(BASE_FORMATS)
    if _heif_available():
        formats["HEIF"] = ".heic"
    if _avif_available():
        formats["AVIF"] = ".avif"
    return formats


@cache
def _optional_suffixes() -> set[str]:
    formats = accepted_formats()
    return ({".heic", ".heif"} if "HEIF" in formats else set()) | ({".avif"} if "AVIF" in formats else set())


@cache
def _optional_reasons() -> dict[str, str]:
    """Extension → why it is refused, for optional formats whose plugin is missing."""
    reasons = {}
    if "HEIF" not in accepted_formats():
        for ext in (".heic", ".heif"):
            reasons[ext] = "HEIC is not supported here (install pillow-heif)"
    if "AVIF" not in accepted_formats():
        reasons[".avif"] = "AVIF is not supported here (install pillow-avif-plugin)"
    return reasons


def _heif_available() -> bool:
    try:
        import pillow_heif  # type: ignore[import-not-found]  # an optional plugin, usually not installed
    except ImportError:
        return False
    pillow_heif.register_heif_opener()
    return True


def _avif_available() -> bool:
    from PIL import features
    if features.check("avif"):  # built into Pillow since 11.3 where libavif was available
        return True
    try:
        import pillow_avif  # type: ignore[import-not-found]  # noqa: F401  # optional; registers itself on import
    except ImportError:
        return False
    return True
