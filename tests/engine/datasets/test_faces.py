"""The face search at its threshold: a face of 15 % of the short side (the least it looks for)
is found in a 12 MP photo and in a 5 MP one. Shrinking the picture before the search (faster:
the cascade moves by two pixels at small scales) lost exactly these faces."""
from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from studio.engine.datasets.analysis import analyze_file
from studio.engine.datasets.faces import MIN_FACE
from tests.engine.datasets.corpus import astronaut, save, scene

FACE = (175, 64, 276, 165)  # her face's box in skimage's 512×512 astronaut


@pytest.mark.parametrize("size", [(3000, 4000), (2000, 2600)])
def test_a_face_of_fifteen_percent_of_the_short_side_is_found(tmp_path: Path, size: tuple[int, int]) -> None:
    picture = scene(size, seed=3)
    side = round(size[0] * MIN_FACE / (FACE[2] - FACE[0]) * 512)  # her face: 15 % of the width
    picture.paste(astronaut().resize((side, side), Image.Resampling.LANCZOS), (size[0] // 10, size[1] // 5))
    [(x, y, w, _h)] = analyze_file(save(tmp_path / "portrait.jpg", picture, quality=92)).faces
    face_left, face_top = size[0] // 10 + FACE[0] * side / 512, size[1] // 5 + FACE[1] * side / 512
    assert abs(x - face_left) < 0.2 * w and abs(y - face_top) < 0.2 * w
    assert 0.14 * size[0] <= w <= 0.18 * size[0]

