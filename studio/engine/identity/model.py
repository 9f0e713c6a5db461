"""dlib's face model, run on the CPU from the files the ``face-recognition-models`` package ships
(no download): the 5-point landmark predictor that aligns a face and the ResNet that turns the
aligned 150×150 face into a 128-d descriptor.

Faces are found by the caller (the dataset analysis's detector, or ``detect`` here with dlib's
HOG detector); a box in the picture's pixels is enough: the landmarks align the face within it.
The model is loaded once per process (about 0.3 s, 0.6 s with the fast net: fast_net.py) and kept;
the HOG detector only when ``detect`` is first called (0.3 s more).
"""
from __future__ import annotations

import importlib.util
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

Box = tuple[int, int, int, int]  # x, y, width, height in the picture's pixels
PACKAGE = "face_recognition_models"
LANDMARKS = "shape_predictor_5_face_landmarks.dat"
RESNET = "dlib_face_recognition_resnet_model_v1.dat"
CHIP = 150  # the ResNet's input side
CHIP_PADDING = 0.25  # dlib's default margin around the aligned face
DETECT_SCORE = 0.5  # HOG detections below this are doubtful (a mission patch scored 0.12)


class ModelUnavailable(RuntimeError):
    """The face model's package or files are missing (one readable line)."""


@dataclass(frozen=True, slots=True)
class FaceModel:
    landmarks: Any  # dlib.shape_predictor
    resnet: Any  # dlib.face_recognition_model_v1
    lock: threading.Lock  # dlib's objects are not documented as safe across threads
    fast: Any = None  # fast_net.FastNet: the same ResNet run by OpenCV; None: dlib's runs it


def model_folder() -> Path:
    """The package's models folder, found without importing it (its __init__ imports
    pkg_resources, which newer setuptools no longer has)."""
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ModelUnavailable("the face model is not installed (pip install face-recognition-models)")
    folder = Path(next(iter(spec.submodule_search_locations))) / "models"
    for name in (LANDMARKS, RESNET):
        if not (folder / name).is_file():
            raise ModelUnavailable(f"the face model file {name} is missing from {folder}")
    return folder


@cache
def load() -> FaceModel:
    """Raises ModelUnavailable when the files or dlib are missing."""
    folder = model_folder()
    try:
        import dlib
    except ImportError as error:
        raise ModelUnavailable("dlib is not installed (pip install dlib-bin)") from error
    from studio.engine.identity import fast_net
    resnet = dlib.face_recognition_model_v1(str(folder / RESNET))
    return FaceModel(landmarks=dlib.shape_predictor(str(folder / LANDMARKS)), resnet=resnet,
                     lock=threading.Lock(), fast=fast_net.load_checked(folder / RESNET, resnet))


@cache
def _detector() -> Any:
    """dlib's HOG face detector (dlib.fhog_object_detector), made on first use: a third of a
    second that the dataset analysis's picture workers, which find faces with OpenCV, never pay."""
    import dlib
    return dlib.get_frontal_face_detector()


def available() -> bool:
    try:
        load()
    except ModelUnavailable:
        return False
    return True


def describe(rgb: np.ndarray, boxes: Sequence[Box]) -> list[np.ndarray]:
    """One 128-d descriptor per box, for an RGB uint8 picture (height × width × 3)."""
    import dlib
    model = load()
    picture = np.ascontiguousarray(rgb, dtype=np.uint8)
    chips = []
    with model.lock:
        for x, y, w, h in boxes:
            shape = model.landmarks(picture, dlib.rectangle(int(x), int(y), int(x + w), int(y + h)))
            chips.append(dlib.get_face_chip(picture, shape, CHIP, CHIP_PADDING))
        return describe_chips(model, chips)


def describe_chips(model: FaceModel, chips: Sequence[np.ndarray]) -> list[np.ndarray]:
    """The descriptors of aligned chips: by the fast net where it was built (within 1e-5 of
    dlib's, several times faster), else by dlib's ResNet. The caller holds ``model.lock``."""
    if model.fast is not None:
        from studio.engine.identity import fast_net
        return fast_net.describe(model.fast, chips)
    return [np.asarray(model.resnet.compute_face_descriptor(chip), dtype=np.float64) for chip in chips]


def detect(rgb: np.ndarray, *, upsample: int = 0) -> list[tuple[Box, float]]:
    """Faces dlib's HOG detector is sure of (score ≥ DETECT_SCORE), with their scores, best first:
    for pictures that did not pass through the dataset analysis (samples, generated pictures)."""
    model = load()
    picture = np.ascontiguousarray(rgb, dtype=np.uint8)
    with model.lock:
        rects, scores, _kinds = _detector().run(picture, upsample, DETECT_SCORE)
    found = [((r.left(), r.top(), r.width(), r.height()), round(float(s), 3))
             for r, s in zip(rects, scores, strict=True)]
    height, width = picture.shape[:2]
    clipped = [(_clip(box, width, height), s) for box, s in found]
    return sorted([(b, s) for b, s in clipped if b[2] > 0 and b[3] > 0], key=lambda f: -f[1])


def _clip(box: Box, width: int, height: int) -> Box:
    x, y, w, h = box
    left, top = max(x, 0), max(y, 0)
    return left, top, min(x + w, width) - left, min(y + h, height) - top
