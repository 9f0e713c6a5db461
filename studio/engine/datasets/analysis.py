"""Per-image analysis (perceptual hash, sharpness, exposure, faces, crop) and near-duplicates.

Everything is measured on the image decoded at reduced size (a 3000×4000 JPEG decodes at 1/8
scale), so one image costs tens of milliseconds. Results are cached on the image row: an image
already analysed with the same content hash is skipped unless forced.

Thresholds (on the analysis-sized image, longest side at most ``ANALYSIS_SIDE``):
- blurry: variance of the Laplacian below ``BLUR_THRESHOLD`` (a sharp photo scores several
  hundred at this size; a Gaussian blur of radius 2 brings it near 10).
- dark: mean grey level below ``DARK_MEAN`` (of 255), or more than ``CLIPPED_LIMIT`` of the
  pixels at or below 5; bright: mean above ``BRIGHT_MEAN``, or more than ``CLIPPED_LIMIT`` at
  or above 250.
- near-duplicates: perceptual hashes (64 bits) at most ``NEAR_DUP_THRESHOLD`` bits apart.
- faces: BlazeFace over the whole picture in one pass, only faces that matter for training (``faces``).
- identity: each face's descriptor, in the same pass (``identity.describing``); after the
  dataset's analysis her references and the pictures' identity verdicts follow
  (``identity.references.after_analysis``). An analysis cached before descriptors existed gets
  them alone on the next run.
"""
from __future__ import annotations

import math
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from contextlib import closing
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import cv2
import imagehash
import numpy as np
from PIL import Image
from sqlalchemy import select

from studio.engine.datasets.crops import DEFAULT_TARGET, her_faces, suggest_crop
from studio.engine.datasets.faces import scored_faces
from studio.engine.datasets.pool import map_ordered
from studio.engine.db.models import Dataset, DatasetImage
from studio.engine.db.types import utcnow
from studio.engine.identity import references
from studio.engine.identity.dataset import flag_counts
from studio.engine.identity.describing import describe_faces, ready
from studio.engine.media.thumbnails import Decoded, decode_image, read_source
from studio.engine.parts import StudioParts
from studio.engine.storage.local import LocalStore

ANALYSIS_SIDE = 512
# Decoding at half the analysis side lets libjpeg scale by 1/8 on a large photo; the result is
# still at least ANALYSIS_SIDE / 2 on its short side.
DECODE_SIDE = ANALYSIS_SIDE // 2
BLUR_THRESHOLD = 100.0
DARK_MEAN = 60.0
BRIGHT_MEAN = 200.0
CLIPPED_LIMIT = 0.25
NEAR_DUP_THRESHOLD = 6
BATCH = 32  # images written per transaction: few commits, little lost to a cancel
CLIP_KEY = "clip"  # a clip's facts in the quality scores (see video_items); clips get no crop
FACES_BY = "blazeface-short"  # the face detector an analysis used, kept with it

Progress = Callable[[float, str], None]


@dataclass(frozen=True, slots=True)
class ImageAnalysis:
    phash: str
    quality: dict[str, Any]
    faces: list[list[int]]  # [x, y, w, h] in pixels of the upright original
    descriptors: list[str] | None = None  # one per face (base64); None: not computed


@dataclass(frozen=True, slots=True)
class AnalysisSummary:
    analyzed: int
    skipped: int
    faces: dict[str, int]
    near_duplicate_groups: int
    blurry: int
    failed: dict[str, str] = field(default_factory=dict)  # image id → reason
    identity: dict[str, int] = field(default_factory=dict)  # identity flag → pictures carrying it

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def analyze_file(path: Path) -> ImageAnalysis:
    """Raises ValueError with a reason when the file cannot be read or decoded."""
    from studio.engine.datasets import video_items  # it builds on this module
    if video_items.is_clip_name(path.name):
        return video_items.analyze_clip(path)
    data = read_source(path)
    return analyze_decoded(decode_image(data, reduce_to=DECODE_SIDE), data)


def describe_file(task: tuple[Path, list[list[int]]]) -> list[str] | None:
    """The descriptors of faces found before (an analysis cached before descriptors existed)."""
    path, faces = task
    data = read_source(path)
    decoded = decode_image(data, reduce_to=DECODE_SIDE)
    return describe_faces(decoded.image, faces, decoded.width, decoded.height, data)


def analyze_decoded(decoded: Decoded, data: bytes | None = None, *, identity: bool = True) -> ImageAnalysis:
    """The analysis of a picture decoded with ``reduce_to=DECODE_SIDE`` (an import's one decode
    serves its thumbnails and this); ``data``, the file's bytes, lets a small face be described
    from a larger decode. ``decoded.image`` is left as it is: the faces' descriptors are taken
    from it where it is larger than the analysis's picture (``identity=False``: no descriptors,
    as bench/identity.py's baseline)."""
    image = _analysis_picture(decoded.image)
    grey_image = image.convert("L")  # once: phash, exposure and sharpness all read it
    grey = np.asarray(grey_image)
    scale = decoded.width / image.width
    found = scored_faces(np.asarray(image if image.mode == "RGB" else image.convert("RGB")))  # RGBA: drop alpha
    faces = [_scaled(box, scale, decoded.width, decoded.height) for box, _score in found]
    described = describe_faces(decoded.image, faces, decoded.width, decoded.height, data) if identity else None
    quality: dict[str, Any] = {**exposure(grey), "sharpness": sharpness(grey),
               "aspect": round(decoded.width / decoded.height, 4),
               "face_scores": [score for _box, score in found]}
    quality.update(blurry=quality["sharpness"] < BLUR_THRESHOLD,
                   dark=quality["brightness"] < DARK_MEAN or quality["clipped_dark"] > CLIPPED_LIMIT,
                   bright=quality["brightness"] > BRIGHT_MEAN or quality["clipped_bright"] > CLIPPED_LIMIT)
    # phash converts to grey first, so the grey picture gives the very same hash
    return ImageAnalysis(phash=str(imagehash.phash(grey_image)), quality=quality, faces=faces,
                         descriptors=described)


def _scaled(box: tuple[int, int, int, int], scale: float, width: int, height: int) -> list[int]:
    """A box in the analysis picture's pixels, in the original's, still inside it (a face that
    reaches the frame's edge must not pass it by rounding)."""
    x, y, w, h = (round(v * scale) for v in box)
    x, y = min(x, width - 1), min(y, height - 1)
    return [x, y, min(w, width - x), min(h, height - y)]


def _analysis_picture(picture: Image.Image) -> Image.Image:
    """The picture within ANALYSIS_SIDE: what ``Image.thumbnail`` makes of a copy, without
    copying a large picture first."""
    if max(picture.size) <= ANALYSIS_SIDE:
        return picture
    return picture.resize(_thumbnail_size(*picture.size, ANALYSIS_SIDE), Image.Resampling.BILINEAR,
                          reducing_gap=2.0)


def _thumbnail_size(width: int, height: int, side: int) -> tuple[int, int]:
    """The size ``Image.thumbnail`` gives a picture in a ``side`` square: the long side becomes
    ``side``, the short one the whole number (rounded down or up) whose aspect comes closest."""
    aspect = width / height
    if aspect <= 1:
        exact = side * aspect
        short = min(math.floor(exact), math.ceil(exact), key=lambda n: abs(aspect - n / side))
        return max(short, 1), side
    exact = side / aspect
    short = min(math.floor(exact), math.ceil(exact), key=lambda n: abs(aspect - side / n) if n else math.inf)
    return side, max(short, 1)


def sharpness(grey: np.ndarray) -> float:
    # 16-bit Laplacian: exact for 8-bit grey, and its variance is the same float as from 64-bit
    return round(float(cv2.Laplacian(grey, cv2.CV_16S).var()), 2)


def exposure(grey: np.ndarray) -> dict[str, float]:
    """Mean grey and the clipped shares, from one histogram (the same numbers as numpy's mean:
    sums of whole numbers are exact)."""
    counts = cv2.calcHist([grey], [0], None, [256], [0, 256]).ravel().astype(np.int64)
    return {"brightness": round(int(counts @ np.arange(256)) / grey.size, 2),
            "clipped_dark": round(int(counts[:6].sum()) / grey.size, 4),
            "clipped_bright": round(int(counts[250:].sum()) / grey.size, 4)}


def face_class(count: int) -> str:
    return "none" if count == 0 else "one" if count == 1 else "several"


def group_near_duplicates(hashes: Sequence[str | None],
                          threshold: int = NEAR_DUP_THRESHOLD) -> list[int | None]:
    """Group numbers (1, 2, …, in order of first member) for hashes within ``threshold`` bits of
    another member, chained; None for an image with no near-duplicate."""
    known = [i for i, h in enumerate(hashes) if h]
    values = np.array([int(h, 16) for h in hashes if h], dtype=np.uint64)
    parent = list(range(len(known)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i
    for i in range(len(known) - 1):  # vectorised per row: 10,000 images take well under a second
        close = np.nonzero(np.bitwise_count(values[i + 1:] ^ values[i]) <= threshold)[0]
        for j in close + i + 1:
            parent[root(int(j))] = root(i)
    sizes = Counter(root(i) for i in range(len(known)))
    numbers: dict[int, int] = {}
    groups: list[int | None] = [None] * len(hashes)
    for position, index in enumerate(known):
        top = root(position)
        if sizes[top] > 1:
            groups[index] = numbers.setdefault(top, len(numbers) + 1)
    return groups


def analyze_dataset(studio: StudioParts, dataset: Dataset, *, force: bool = False,
                    image_ids: Iterable[uuid.UUID | str] | None = None,
                    target: int = DEFAULT_TARGET, threshold: int = NEAR_DUP_THRESHOLD,
                    progress: Progress | None = None,
                    check_canceled: Callable[[], None] | None = None) -> AnalysisSummary:
    """Analyses the dataset's images (or ``image_ids``), regroups near-duplicates over the whole
    dataset and refreshes automatic crops."""
    store = LocalStore(studio.paths.assets_dir)
    ids = None if image_ids is None else [uuid.UUID(str(i)) for i in image_ids]
    chosen = _images(studio, dataset, ids)
    analyzed, failed = 0, {}
    pending: dict[uuid.UUID, ImageAnalysis] = {}
    outcomes = map_ordered(chosen, lambda image: None if not force and _is_cached(image)
                           else store.path(image.storage_key), analyze_file)
    with closing(outcomes):  # a cancel stops the files not yet started
        for index, (image, outcome) in enumerate(outcomes, start=1):
            if check_canceled is not None:
                check_canceled()
            if isinstance(outcome, ValueError):
                failed[str(image.id)] = str(outcome)
            elif outcome is not None:
                pending[image.id] = outcome
                analyzed += 1
            if len(pending) >= BATCH:
                _save(studio, pending, target)
            if progress is not None:
                progress(index / max(len(chosen), 1), f"{index} of {len(chosen)}: {image.original_name}")
    _save(studio, pending, target)
    _describe_cached(studio, store, _images(studio, dataset, ids), check_canceled)
    _refresh_crops(studio, dataset, ids, target)
    groups = _regroup(studio, dataset, threshold)
    references.after_analysis(studio, dataset.id)
    final = _images(studio, dataset, ids)
    done = [i for i in final if i.analyzed_at is not None]
    return AnalysisSummary(
        analyzed=analyzed, skipped=len(chosen) - analyzed - len(failed),
        faces={k: sum(face_class(len(i.faces or [])) == k for i in done) for k in ("none", "one", "several")},
        near_duplicate_groups=groups, blurry=sum(bool((i.quality or {}).get("blurry")) for i in done),
        failed=failed, identity=flag_counts(studio, dataset.id))


def _describe_cached(studio: StudioParts, store: LocalStore, images: list[DatasetImage],
                     check_canceled: Callable[[], None] | None) -> None:
    """Descriptors for pictures analysed before they existed (or while the model was missing)."""
    missing = [i for i in images if i.analyzed_at is not None and i.faces and CLIP_KEY not in (i.quality or {})
               and len(i.face_descriptors or []) != len(i.faces)]
    if not missing or not ready():
        return
    found: dict[uuid.UUID, list[str]] = {}
    outcomes = map_ordered(missing, lambda image: (store.path(image.storage_key), list(image.faces)),
                           describe_file)
    with closing(outcomes):
        for image, outcome in outcomes:
            if check_canceled is not None:
                check_canceled()
            if isinstance(outcome, list):
                found[image.id] = outcome
    with studio.db.session() as session:
        for image in session.scalars(select(DatasetImage).where(DatasetImage.id.in_(list(found)))):
            image.face_descriptors = found[image.id]


def _is_cached(image: DatasetImage) -> bool:
    """Analysed before, of this very content (the hash is kept in the quality scores), with
    today's face detector (the Haar cascade's faces and scores differ: such pictures are
    analysed again)."""
    quality = image.quality or {}
    return (image.analyzed_at is not None and quality.get("sha256") == image.sha256
            and quality.get("faces_by") == FACES_BY)


def _query(dataset: Dataset, ids: list[uuid.UUID] | None) -> Any:
    query = (select(DatasetImage)
             .where(DatasetImage.workspace_id == dataset.workspace_id,
                    DatasetImage.dataset_id == dataset.id, DatasetImage.deleted_at.is_(None))
             .order_by(DatasetImage.created_at, DatasetImage.source_name))
    return query if ids is None else query.where(DatasetImage.id.in_(ids))


def _images(studio: StudioParts, dataset: Dataset, ids: list[uuid.UUID] | None) -> list[DatasetImage]:
    with studio.db.session() as session:
        return list(session.scalars(_query(dataset, ids)).all())


def _save(studio: StudioParts, pending: dict[uuid.UUID, ImageAnalysis], target: int) -> None:
    """Writes and forgets ``pending``; a crop the user set by hand is left as it is."""
    if not pending:
        return
    with studio.db.session() as session:
        for image in session.scalars(select(DatasetImage).where(DatasetImage.id.in_(list(pending)))):
            fields = analysis_fields(pending[image.id], image.sha256, image.width, image.height, target)
            if image.crop_manual:
                del fields["crop"]
            elif fields["crop"] is not None and (image.identity or {}).get("face") is not None:
                fields["crop"] = suggest_crop(image.width, image.height, her_faces(fields["faces"], image.identity),
                                              target).to_dict()
            for name, value in fields.items():
                setattr(image, name, value)
    pending.clear()


def analysis_fields(result: ImageAnalysis | None, sha256: str, width: int, height: int,
                    target: int = DEFAULT_TARGET) -> dict[str, Any]:
    """The image row's columns that record ``result`` (none when there is no result); the crop
    is the automatic one for ``target``."""
    if result is None:
        return {}
    crop = None if CLIP_KEY in result.quality else suggest_crop(width, height, result.faces, target).to_dict()
    return {"phash": result.phash, "quality": {**result.quality, "sha256": sha256, "faces_by": FACES_BY},
            "faces": result.faces, "analyzed_at": utcnow(), "crop": crop,
            "face_descriptors": list(result.descriptors or [])}


def _refresh_crops(studio: StudioParts, dataset: Dataset, ids: list[uuid.UUID] | None,
                   target: int) -> None:
    """Automatic crops made for another target (or none yet) follow the one asked for now."""
    with studio.db.session() as session:
        for image in session.scalars(_query(dataset, ids)):
            stale = image.crop is None or image.crop.get("target") != target
            clip = CLIP_KEY in (image.quality or {})
            if not image.crop_manual and stale and not clip and image.width > 0 and image.height > 0:
                faces = her_faces(image.faces or [], image.identity)
                image.crop = suggest_crop(image.width, image.height, faces, target).to_dict()


def _regroup(studio: StudioParts, dataset: Dataset, threshold: int) -> int:
    """Regroups the whole dataset; writes only rows whose group changed. Returns the count."""
    everything = _images(studio, dataset, None)
    groups = group_near_duplicates([i.phash for i in everything], threshold)
    changed = {i.id: g for i, g in zip(everything, groups, strict=True) if i.near_dup_group != g}
    if changed:
        with studio.db.session() as session:
            for image in session.scalars(select(DatasetImage).where(DatasetImage.id.in_(list(changed)))):
                image.near_dup_group = changed[image.id]
    return len({g for g in groups if g is not None})
