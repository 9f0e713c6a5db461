"""Faces grouped by person: clusters of descriptors within ``SAME_PERSON_DISTANCE`` of a cluster's
mean, numbered by size (1 = the largest).

A greedy pass in the order given (each face joins the nearest cluster whose mean is within the
threshold, else starts one), then one pass that moves every face to its nearest final mean, so a
face met early is not left with a cluster that later drifted away. Only the means are compared
against (never all pairs), so 10,000 faces of one person cost about 10,000 small numpy steps and
no 10,000 × 10,000 matrix; the same input in the same order always gives the same numbers.
"""
from __future__ import annotations

import numpy as np

from studio.engine.identity.descriptors import SAME_PERSON_DISTANCE, SIZE

CHUNK = 2048  # faces per distance block in the final pass (2048 × clusters floats at a time)


def cluster(vectors: np.ndarray, threshold: float = SAME_PERSON_DISTANCE) -> np.ndarray:
    """One cluster number (1 = the largest) per row of ``vectors`` (N × 128)."""
    faces = np.asarray(vectors, dtype=np.float64).reshape(-1, SIZE)
    if len(faces) == 0:
        return np.zeros(0, dtype=np.int64)
    means = _greedy_means(faces, threshold)
    nearest = _nearest(faces, means)
    return _numbered(nearest)


def _greedy_means(faces: np.ndarray, threshold: float) -> np.ndarray:
    sums = np.zeros((len(faces), SIZE))
    counts = np.zeros(len(faces))
    used = 0
    for face in faces:
        if used:
            gaps = np.linalg.norm(sums[:used] / counts[:used, None] - face, axis=1)
            best = int(np.argmin(gaps))
            if gaps[best] <= threshold:
                sums[best] += face
                counts[best] += 1
                continue
        sums[used], counts[used] = face, 1
        used += 1
    means: np.ndarray = sums[:used] / counts[:used, None]
    return means


def _nearest(faces: np.ndarray, means: np.ndarray) -> np.ndarray:
    found = np.empty(len(faces), dtype=np.int64)
    squared = (means ** 2).sum(axis=1)
    for start in range(0, len(faces), CHUNK):
        block = faces[start:start + CHUNK]
        # |a - b|² = |a|² - 2ab + |b|²; |a|² is the same for every mean of a row, so it is left out
        found[start:start + CHUNK] = np.argmin(squared[None, :] - 2 * block @ means.T, axis=1)
    return found


def _numbered(labels: np.ndarray) -> np.ndarray:
    """Labels renumbered 1, 2, … by size, ties by the earliest member."""
    values, first, counts = np.unique(labels, return_index=True, return_counts=True)
    order = sorted(range(len(values)), key=lambda i: (-counts[i], first[i]))
    number = {int(values[i]): rank for rank, i in enumerate(order, start=1)}
    return np.array([number[int(v)] for v in labels], dtype=np.int64)
