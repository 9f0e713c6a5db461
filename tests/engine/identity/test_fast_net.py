"""The fast net (dlib's face ResNet run by OpenCV) gives dlib's descriptors on the real photos,
and dlib's own ResNet takes over when the fast net cannot be built or does not agree."""
from __future__ import annotations

import dataclasses
from functools import cache
from pathlib import Path

import dlib
import numpy as np
import pytest

from studio.engine.identity import fast_net, model
from tests.engine.identity.people import variant
from tests.photos import PEOPLE

KINDS = ("plain", "flip", "crop", "dark")


@cache
def _chips() -> tuple[tuple[str, np.ndarray], ...]:
    """The aligned chip of every face dlib's detector finds in the people's variations."""
    face_model = model.load()
    found = []
    for person in PEOPLE:
        for kind in KINDS:
            rgb = np.asarray(variant(person, kind))
            for (x, y, w, h), _score in model.detect(rgb):
                shape = face_model.landmarks(rgb, dlib.rectangle(x, y, x + w, y + h))
                found.append((f"{person}/{kind}", dlib.get_face_chip(rgb, shape, model.CHIP, model.CHIP_PADDING)))
    return tuple(found)


def _dlib(chip: np.ndarray) -> np.ndarray:
    return np.asarray(model.load().resnet.compute_face_descriptor(chip), dtype=np.float64)


def test_the_model_file_reads_as_dlibs_face_resnet() -> None:
    network = fast_net.parse((model.model_folder() / model.RESNET).read_bytes())
    kinds = [layer.kind for layer in network.layers]
    assert kinds.count("con") == 29 and kinds.count("affine") == 29 and kinds.count("add") == 14
    assert kinds[:4] == ["con", "affine", "relu", "max"] and kinds[-2:] == ["avg", "fc"]
    assert network.layers[0].weights is not None and network.layers[0].weights.shape == (32, 3, 7, 7)
    assert network.layers[-1].weights is not None and network.layers[-1].weights.shape == (256, 128)
    assert network.mean == pytest.approx((122.782, 117.001, 104.298), abs=1e-3)


def test_descriptors_match_dlibs_on_the_real_photos() -> None:
    chips = _chips()
    assert {name.split("/")[0] for name, _ in chips} == set(PEOPLE) and len(chips) == len(PEOPLE) * len(KINDS)
    fast = model.load().fast
    assert fast is not None  # this machine builds it: the studio uses it
    described = fast_net.describe(fast, [chip for _, chip in chips])
    for (name, chip), descriptor in zip(chips, described, strict=True):
        assert descriptor.shape == (128,)
        assert np.linalg.norm(descriptor - _dlib(chip)) < 0.01, name


def test_describe_is_the_same_with_either_net() -> None:
    rgb = np.asarray(variant("hopper", "plain"))
    boxes = [box for box, _score in model.detect(rgb)]
    by_fast = model.describe(rgb, boxes)
    face_model = model.load()
    shape = face_model.landmarks(rgb, dlib.rectangle(boxes[0][0], boxes[0][1],
                                                     boxes[0][0] + boxes[0][2], boxes[0][1] + boxes[0][3]))
    chip = dlib.get_face_chip(rgb, shape, model.CHIP, model.CHIP_PADDING)
    by_dlib = model.describe_chips(dataclasses.replace(face_model, fast=None), [chip])
    assert len(by_fast) == len(boxes) == 1
    assert np.linalg.norm(by_fast[0] - by_dlib[0]) < 0.01
    assert model.describe_chips(face_model, []) == [] and model.describe(rgb, []) == []


@pytest.mark.parametrize("content", [b"not a model at all", b"truncated"])
def test_no_fast_net_from_a_broken_file(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / model.RESNET
    real = (model.model_folder() / model.RESNET).read_bytes()
    path.write_bytes(real[:1_000_000] if content == b"truncated" else content)
    with pytest.raises(fast_net.FastNetUnavailable) as raised:
        fast_net.build(path)
    assert "face model file" in str(raised.value) and "\n" not in str(raised.value)
    assert fast_net.load_checked(path, model.load().resnet) is None


class _OtherNet:
    """A ResNet that disagrees with the file's: what a wrong reading of it would look like."""

    def compute_face_descriptor(self, chip: np.ndarray) -> list[float]:
        return [0.0] * 128


def test_no_fast_net_where_it_disagrees_with_dlibs() -> None:
    path = model.model_folder() / model.RESNET
    assert fast_net.load_checked(path, _OtherNet()) is None
    checked = fast_net.load_checked(path, model.load().resnet)
    assert checked is not None
    chip = fast_net.test_chip()
    assert np.linalg.norm(fast_net.describe(checked, [chip])[0] - _dlib(chip)) < fast_net.AGREEMENT
