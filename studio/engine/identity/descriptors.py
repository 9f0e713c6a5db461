"""A face descriptor as stored: 128 float32 values, base64 (684 characters where JSON of the
numbers takes about 1,300); distances and the user-facing score.

dlib's descriptors put the same person within ``SAME_PERSON_DISTANCE`` (Euclidean) and different
people beyond it (measured here: one face and its mirror image 0.20, different people 0.70–0.85).
The score shown to users maps that distance onto 0–1 so that the threshold falls at one half:
``score = 1 - distance / (2 × SAME_PERSON_DISTANCE)``, clipped to 0 (distance 0 → 1.0, the
threshold → 0.5, twice the threshold or more → 0).
"""
from __future__ import annotations

import base64
from collections.abc import Sequence

import numpy as np

SIZE = 128
SAME_PERSON_DISTANCE = 0.6
SAME_PERSON_SCORE = 0.5


def encode(descriptor: np.ndarray | Sequence[float]) -> str:
    values = np.asarray(descriptor, dtype="<f4").reshape(-1)
    if values.size != SIZE:
        raise ValueError(f"a face descriptor has {SIZE} values, not {values.size}")
    return base64.b64encode(values.tobytes()).decode("ascii")


def decode(text: str) -> np.ndarray:
    """Raises ValueError for text that is not a stored descriptor."""
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (ValueError, UnicodeEncodeError) as error:
        raise ValueError("not a stored face descriptor") from error
    if len(raw) != SIZE * 4:
        raise ValueError("not a stored face descriptor")
    return np.frombuffer(raw, dtype="<f4").astype(np.float64)


def distance(a: np.ndarray, b: np.ndarray) -> float:
    return round(float(np.linalg.norm(np.asarray(a) - np.asarray(b))), 4)


def score(distance_value: float) -> float:
    """0–1, higher is more like her; 0.5 is the same-person threshold."""
    return round(max(0.0, 1.0 - distance_value / (2 * SAME_PERSON_DISTANCE)), 3)


def centroid(descriptors: Sequence[np.ndarray]) -> np.ndarray:
    """The mean descriptor: a steadier reference than any one picture of her."""
    if not descriptors:
        raise ValueError("no reference faces")
    mean: np.ndarray = np.mean(np.stack([np.asarray(d, dtype=np.float64) for d in descriptors]), axis=0)
    return mean
