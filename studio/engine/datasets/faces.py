"""Faces in a dataset picture: OpenCV's frontal Haar cascade, over the analysis's grey picture.

Only faces of at least ``MIN_FACE`` (15 %) of the picture's short side are looked for, in steps
of ``FACE_STEP``. For training pictures a smaller face is not a usable face (too few pixels once
the picture is cropped to the training size), so the face count (none/one/several) and the crop
suggestion are about the faces that matter. The search's cost falls with the square of the
smallest face: on a 375×500 analysis image, every face down to the cascade's 24 px window in
steps of 1.15 took 100–250 ms; 15 % in steps of 1.25 takes 10–40 ms, and finds the same faces in
the tests' pictures (boxes within a few pixels).

A close-up whose face reaches the frame's edges is not found as it is (the cascade's window
holds a margin around the face), so when nothing was found a second search adds a
``FACE_BORDER`` border and looks only for faces of ``CLOSE_UP_FACE`` of the short side or more
(a few ms): a face that small reaching the edges is cut by the frame anyway.

The search runs on the picture as it is, not shrunk first. OpenCV moves the window by two
pixels at scales under 2 and by one above, so shrinking the picture (the smallest face at 40 px
instead of 56, or by one scale step) makes the first, costliest scales coarser: a fifth less
time on busy texture, but faces at 15–18 % of the short side went missing and scores moved
(Grace Hopper's 5.3 fell to 0.4), since a face then gathers fewer of the ``min_neighbors`` hits
it needs.
"""
from __future__ import annotations

from functools import cache

import cv2
import cv2.data
import numpy as np

Box = tuple[int, int, int, int]
MIN_FACE = 0.15  # of the short side: the smallest face searched for (see above)
FACE_STEP = 1.25  # the scale step between the face sizes searched
CLOSE_UP_FACE = 1 / 3  # of the short side: the smallest face the bordered second search looks for
FACE_BORDER = 0.15  # of the longer side, added around a close-up for the second search
FACE_WINDOW = 24  # pixels: the cascade's window, its smallest face


def detect_faces(grey: np.ndarray, *, min_neighbors: int = 5) -> list[tuple[int, int, int, int]]:
    """Face boxes in ``grey``'s pixels (``scored_faces`` without the scores)."""
    return [box for box, _score in scored_faces(grey, min_neighbors=min_neighbors)]


def scored_faces(grey: np.ndarray, *, min_neighbors: int = 5) -> list[tuple[Box, float]]:
    """Face boxes in ``grey``'s pixels, of faces at least ``MIN_FACE`` of the short side; where
    none is found, a close-up whose face touches the frame's edges (see the module's notes).
    Each with the cascade's confidence: a clear face scores above 1, a doubtful one near 0; the
    Datasets page lets the user count only faces above a score of their choosing."""
    equalized = cv2.equalizeHist(grey)
    short = min(grey.shape[:2])
    boxes = _search(equalized, round(short * MIN_FACE), 0, min_neighbors)
    if not boxes:
        pad = int(max(grey.shape[:2]) * FACE_BORDER)
        boxes = _search(equalized, round(short * CLOSE_UP_FACE), pad, min_neighbors)
    return boxes


def _search(grey: np.ndarray, smallest: int, pad: int, min_neighbors: int) -> list[tuple[Box, float]]:
    """The cascade over ``grey`` with a replicated border of ``pad`` pixels, boxes clipped to
    the picture; the cascade's own window is the least it can look for."""
    padded = cv2.copyMakeBorder(grey, pad, pad, pad, pad, cv2.BORDER_REPLICATE) if pad else grey
    least = max(smallest, FACE_WINDOW)
    found, _levels, weights = _cascade().detectMultiScale3(
        padded, scaleFactor=FACE_STEP, minNeighbors=min_neighbors, minSize=(least, least),
        outputRejectLevels=True)
    height, width = grey.shape[:2]
    boxes = []
    for (x, y, w, h), weight in zip(found, np.ravel(weights), strict=True):
        left, top = max(int(x) - pad, 0), max(int(y) - pad, 0)
        right, bottom = min(int(x + w) - pad, width), min(int(y + h) - pad, height)
        if right - left >= 12 and bottom - top >= 12:  # a box mostly in the border is no face
            boxes.append(((left, top, right - left, bottom - top), round(float(weight), 2)))
    return boxes



@cache
def _cascade() -> cv2.CascadeClassifier:
    path = cv2.data.haarcascades + "haarcascade_frontalface_default.xml"
    cascade = cv2.CascadeClassifier(path)
    if cascade.empty():
        raise RuntimeError(f"OpenCV's face cascade is missing ({path}); reinstall opencv-python-headless<5.")
    return cascade
