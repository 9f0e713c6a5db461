"""Clusters of faces: one person's variations together, others apart, numbered by size."""
from __future__ import annotations

import numpy as np

from studio.engine.identity import descriptors
from studio.engine.identity.clusters import cluster
from tests.engine.identity.people import VARIANTS, faces_of


def _vector(name: str, kind: str = "plain") -> np.ndarray:
    return descriptors.decode(faces_of(name, kind)[1][0])


def test_one_persons_variations_form_the_largest_cluster() -> None:
    faces = [_vector("hopper"), *(_vector("astronaut", k) for k in VARIANTS), _vector("luis")]
    assert cluster(np.stack(faces)).tolist() == [2, 1, 1, 1, 1, 1, 3]  # ties: the first met first


def test_the_same_input_gives_the_same_numbers_and_empty_input_none() -> None:
    rng = np.random.default_rng(5)
    people = rng.normal(0, 0.1, (4, 128))
    faces = np.concatenate([p + rng.normal(0, 0.01, (30, 128)) for p in people])
    first = cluster(faces)
    assert np.array_equal(first, cluster(faces)) and sorted(set(first.tolist())) == [1, 2, 3, 4]
    assert all(len(set(first[i * 30:(i + 1) * 30].tolist())) == 1 for i in range(4))
    assert cluster(np.zeros((0, 128))).size == 0
