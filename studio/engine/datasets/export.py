"""Export for kohya sd-scripts: ``img/<repeats>_<trigger> <class>/`` plus ``dataset_config.toml``.

The export is reproducible: the same dataset gives the same bytes (names from position and
content hash, fixed encoder settings, no timestamps), and ``manifest.json`` records the
dataset version it came from, a hash of every image's content, caption, crop and exclusion.
It is written into a temporary folder beside the target and renamed into place, so a crash
never leaves half an export where the trainer would read it.
"""
from __future__ import annotations

import hashlib
import io
import json
import math
import re
import shutil
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tomli_w
from PIL import Image, ImageOps

from studio.engine.datasets.caption_style import (
    SENTENCES,
    StyledCaption,
    check_style,
    dataset_vocabulary,
    restyle,
    summary,
)
from studio.engine.datasets.service import list_images
from studio.engine.datasets.video_export import write_clip
from studio.engine.datasets.video_items import is_clip_name
from studio.engine.db.models import Dataset, DatasetImage, Influencer
from studio.engine.errors import InvalidInput, NotFound
from studio.engine.media.image_limits import open_image, prepare_decode
from studio.engine.parts import StudioParts

GENERATOR = "influencerai-studio"
MANIFEST = "manifest.json"
CONFIG = "dataset_config.toml"
DEFAULT_RESOLUTION = 512  # sd-scripts' own default; crops made for a bigger target raise it
# Formats sd-scripts reads as they are; anything else (TIFF, HEIC…) is re-encoded as PNG.
COPYABLE = {"JPEG": ".jpg", "PNG": ".png", "WEBP": ".webp", "BMP": ".bmp"}
_UNSAFE = re.compile(r'[<>:"/\\|?*\x00-\x1f]')
_ORIENTATION = 0x0112

CropRenderer = Callable[[Path, dict[str, Any]], Image.Image]


@dataclass(frozen=True, slots=True)
class ExportResult:
    out_dir: Path
    image_dir: Path
    config_file: Path
    manifest_file: Path
    images: int
    captions: int
    skipped_excluded: int
    skipped_duplicates: int
    dataset_version: str
    files: tuple[str, ...]  # relative to out_dir, manifest.json excluded
    caption_style: str | None = None  # None: the captions as they are
    caption_report: str = ""  # what the style did to the captions, one line


def export_kohya(studio: StudioParts, dataset: Dataset, out_dir: Path, *,
                 include_near_duplicates: bool = False, include_excluded: bool = False,
                 resolution: int | None = None, caption_style: str | None = None) -> ExportResult:
    """``caption_style`` "tags" or "sentences" writes every caption in that style (see
    caption_style.py); None writes the captions as they are."""
    out = out_dir.expanduser().resolve()
    check_target(out)
    images = _ordered(list_images(studio, dataset))
    chosen, skipped_excluded, skipped_dups = select_images(
        images, include_excluded=include_excluded, include_near_duplicates=include_near_duplicates)
    trigger = _trigger(studio, dataset)
    folder = folder_name(dataset.repeats, trigger, dataset.class_token, dataset.name)
    res = resolution or guess_resolution(chosen)
    styled = _styled(images, chosen, caption_style, trigger=trigger, separator=dataset.tag_separator)
    tmp = out.with_name(f".{out.name}.export-{uuid.uuid4().hex[:8]}")
    try:
        (tmp / "img" / folder).mkdir(parents=True)
        entries = [_write_one(studio, image, tmp, f"img/{folder}/{i:04d}_{image.sha256[:8]}",
                              styled[image.id].text)
                   for i, image in enumerate(chosen, start=1)]
        config = kohya_config(out / "img" / folder, repeats=dataset.repeats, trigger=trigger,
                              class_token=dataset.class_token, resolution=res, shuffle=caption_style != SENTENCES)
        (tmp / CONFIG).write_text(config, encoding="utf-8")
        files = [CONFIG] + [f for e in entries for f in (e["file"], e["caption_file"]) if f]
        manifest = _manifest(dataset, images, trigger=trigger, resolution=res, files=files,
                             entries=entries, options={
                                 "include_near_duplicates": include_near_duplicates,
                                 "include_excluded": include_excluded, "caption_style": caption_style,
                                 "caption_report": _caption_report(styled, caption_style)})
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n",
                                    encoding="utf-8")
        _swap(tmp, out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return ExportResult(out_dir=out, image_dir=out / "img" / folder, config_file=out / CONFIG,
                        manifest_file=out / MANIFEST, images=len(entries),
                        captions=sum(1 for e in entries if e["caption_file"]),
                        skipped_excluded=skipped_excluded, skipped_duplicates=skipped_dups,
                        dataset_version=manifest["dataset_version"], files=tuple(files),
                        caption_style=caption_style, caption_report=manifest["caption_report"])


def _manifest(dataset: Dataset, images: Sequence[DatasetImage], *, trigger: str, resolution: int,
              files: list[str], entries: list[dict[str, Any]], options: dict[str, Any]) -> dict[str, Any]:
    return {"generator": GENERATOR, "format": "kohya", "dataset_id": str(dataset.id),
            "dataset_name": dataset.name, "dataset_version": dataset_version(images),
            "trigger": trigger, "class_token": dataset.class_token, "repeats": dataset.repeats,
            "resolution": resolution, **options, "files": files, "images": entries}


def dataset_version(images: Sequence[DatasetImage]) -> str:
    """sha256 over the sorted (content hash, caption, crop, excluded) of every image."""
    rows = sorted((i.sha256, i.caption, json.dumps(i.crop, sort_keys=True), bool(i.excluded))
                  for i in images)
    return hashlib.sha256(json.dumps(rows, ensure_ascii=False).encode("utf-8")).hexdigest()


def select_images(images: Sequence[DatasetImage], *, include_excluded: bool,
                  include_near_duplicates: bool) -> tuple[list[DatasetImage], int, int]:
    """The images to export and how many were left out as excluded and as near-duplicates.
    Of each near-duplicate group the first image not excluded is kept."""
    chosen, excluded, dups = [], 0, 0
    seen_groups: set[int] = set()
    for image in images:
        if image.excluded and not include_excluded:
            excluded += 1
            continue
        group = image.near_dup_group
        if group is not None and not include_near_duplicates:
            if group in seen_groups:
                dups += 1
                continue
            seen_groups.add(group)
        chosen.append(image)
    return chosen, excluded, dups


def folder_name(repeats: int, trigger: str, class_token: str, fallback: str) -> str:
    """``10_mia woman``; without trigger and class the dataset's name stands in."""
    tokens = " ".join(t for t in (_safe(trigger), _safe(class_token)) if t) or _safe(fallback) or "images"
    return f"{repeats}_{tokens}"


def guess_resolution(images: Sequence[DatasetImage]) -> int:
    """The training resolution the crops were made for (side of the square of equal area),
    rounded to 64; sd-scripts' default when nothing is cropped."""
    buckets = Counter(tuple(i.crop["bucket"]) for i in images
                      if i.crop and len(i.crop.get("bucket") or ()) == 2)
    if not buckets:
        return DEFAULT_RESOLUTION
    (w, h), _ = max(buckets.items(), key=lambda item: (item[1], item[0]))
    return max(64, round(math.sqrt(w * h) / 64) * 64)


def kohya_config(image_dir: Path, *, repeats: int, trigger: str, class_token: str,
                 resolution: int, shuffle: bool = True) -> str:
    """``shuffle`` False for captions in sentences: shuffling their comma-separated pieces
    would scramble the prose."""
    general: dict[str, Any] = {"caption_extension": ".txt", "shuffle_caption": shuffle}
    if trigger and shuffle:
        general["keep_tokens"] = 1  # the trigger is the first tag; shuffling must not move it
    subset = {"image_dir": str(image_dir), "num_repeats": repeats,
              "class_tokens": " ".join(t for t in (trigger, class_token) if t)}
    config = {"general": general, "datasets": [{
        "resolution": resolution, "enable_bucket": True, "min_bucket_reso": max(64, resolution // 2),
        "max_bucket_reso": resolution * 2, "bucket_reso_steps": 64, "subsets": [subset]}]}
    return "# Written by InfluencerAI Studio for kohya sd-scripts (--dataset_config).\n\n" + \
        tomli_w.dumps(config)


def check_target(out: Path) -> None:
    """An empty or missing folder, or a previous export with nothing added by hand."""
    if not out.exists():
        return
    if not out.is_dir():
        raise InvalidInput(f"{out} is a file; choose a folder to export into.")
    if not any(out.iterdir()):
        return
    previous = _previous_files(out)
    if previous is None:
        raise InvalidInput(f"{out} is not empty and is not a previous export; choose an empty or new folder.")
    for path in sorted(out.rglob("*")):
        rel = path.relative_to(out).as_posix()
        if not path.is_dir() and rel not in previous:
            raise InvalidInput(f"{out} holds '{rel}', which the previous export did not write; "
                               "move it away or choose another folder.")


def _previous_files(out: Path) -> set[str] | None:
    try:
        manifest = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(manifest, dict) or manifest.get("generator") != GENERATOR:
        return None
    return {str(f) for f in manifest.get("files", [])} | {MANIFEST}


def _swap(tmp: Path, out: Path) -> None:
    old = out.with_name(f".{out.name}.old-{uuid.uuid4().hex[:8]}")
    if out.exists():
        out.rename(old)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp.rename(out)
    shutil.rmtree(old, ignore_errors=True)


def _ordered(images: Sequence[DatasetImage]) -> list[DatasetImage]:
    # Import order, with the content hash as the last word so equal timestamps stay stable.
    return sorted(images, key=lambda i: (i.created_at, i.source_name, i.sha256))


def _trigger(studio: StudioParts, dataset: Dataset) -> str:
    with studio.db.session() as session:
        influencer = session.get(Influencer, dataset.influencer_id)
        return influencer.trigger_word if influencer is not None else ""


def _safe(text: str) -> str:
    return " ".join(_UNSAFE.sub("_", text).split()).strip(". ")


def _styled(images: Sequence[DatasetImage], chosen: Sequence[DatasetImage], style: str | None, *,
            trigger: str, separator: str) -> dict[uuid.UUID, StyledCaption]:
    """Each chosen image's caption in ``style``; the whole dataset's tags are the vocabulary
    that sentences may be turned into tags from."""
    if style is None:
        return {i.id: StyledCaption(i.caption, False, "as it is") for i in chosen}
    check_style(style)
    vocabulary = dataset_vocabulary((i.caption for i in images),
                                    (t for i in images for t in (i.tags or [])), separator=separator)
    return {i.id: restyle(i.caption, style, trigger=trigger, separator=separator,
                          vocabulary=vocabulary) for i in chosen}


def _caption_report(styled: dict[uuid.UUID, StyledCaption], style: str | None) -> str:
    return summary((c.note for c in styled.values()), style) if style else "captions as they are"


def _write_one(studio: StudioParts, image: DatasetImage, root: Path, stem: str,
               caption: str) -> dict[str, Any]:
    source = studio.paths.assets_dir / image.storage_key
    if not source.is_file():
        raise NotFound(f"The original of '{image.original_name or image.sha256[:12]}' is missing "
                       f"from the asset store ({source}).")
    name = (write_clip(studio.settings, source, root / stem) if is_clip_name(source.name)
            else _write_image(source, image.crop, root / stem))
    caption = " ".join(caption.split())  # sd-scripts reads only the first line
    caption_file = None
    if caption:  # an empty .txt makes sd-scripts stop; without one it uses class_tokens
        caption_file = f"{stem}.txt"
        (root / caption_file).write_bytes(caption.encode("utf-8"))
    return {"file": f"{Path(stem).parent.as_posix()}/{name}", "caption_file": caption_file,
            "image_id": str(image.id), "sha256": image.sha256, "cropped": bool(image.crop)}


def _write_image(source: Path, crop: dict[str, Any] | None, stem: Path) -> str:
    """Writes the image as the trainer should see it; returns the file name."""
    try:
        with open_image(source) as probe:
            fmt = probe.format or ""
            orientation = probe.getexif().get(_ORIENTATION, 1)
    except (OSError, ValueError) as exc:
        raise InvalidInput(f"{source.name} cannot be read for export: {exc}") from exc
    renderer = _crop_renderer() if crop else None
    if renderer is not None and crop:
        return _encode(renderer(source, crop), stem, jpeg=fmt == "JPEG")
    if fmt in COPYABLE and orientation in (None, 1):
        target = stem.with_name(stem.name + COPYABLE[fmt])
        shutil.copyfile(source, target)
        return target.name
    # Rotated by EXIF (sd-scripts ignores the tag) or a format it cannot read: render it upright.
    with open_image(source) as img:
        try:
            prepare_decode(img)  # written whole: refused past the memory limit, not reduced
        except ValueError as exc:
            raise InvalidInput(f"{source.name} cannot be exported: {exc}") from None
        return _encode(ImageOps.exif_transpose(img), stem, jpeg=fmt == "JPEG")


def _crop_renderer() -> CropRenderer | None:
    try:
        from studio.engine.datasets.crops import render_crop
    except ImportError:  # crops not available: the original goes out unchanged
        return None
    return render_crop


def _encode(img: Image.Image, stem: Path, *, jpeg: bool) -> str:
    """Fixed encoder settings and no metadata, so the same pixels give the same bytes."""
    img = _eight_bit(img)
    buffer = io.BytesIO()
    if jpeg:
        img.convert("RGB").save(buffer, format="JPEG", quality=95, subsampling=0, optimize=False,
                                progressive=False)
        suffix = ".jpg"
    else:
        img.save(buffer, format="PNG", optimize=False, compress_level=6)
        suffix = ".png"
    target = stem.with_name(stem.name + suffix)
    target.write_bytes(buffer.getvalue())
    return target.name


def _eight_bit(img: Image.Image) -> Image.Image:
    if img.mode in ("RGB", "RGBA", "L"):
        return img
    if img.mode.startswith("I"):  # 16-bit greyscale: scale rather than clip at 255
        return img.convert("I").point(lambda v: v * (1 / 256)).convert("L")
    has_alpha = "A" in img.getbands() or "transparency" in img.info
    return img.convert("RGBA" if has_alpha else "RGB")
