"""A close-up whose face fills the frame, edges cut, is still found: the detector's window holds a
margin around a face, which such a picture does not have."""
from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from studio.engine.datasets.analysis import analyze_file
from tests.engine.datasets.corpus import astronaut

FACE = (175, 64, 276, 165)  # her face's box in skimage's 512×512 astronaut


@pytest.mark.parametrize("width", [600, 2000])  # decoded at 1/2 and at 1/4
def test_a_face_filling_a_close_up_is_found(tmp_path: Path, width: int) -> None:
    left, top, right, bottom = FACE
    tight = astronaut().crop((left + 5, top + 6, right - 6, bottom + 5))  # forehead and chin cut
    close_up = tight.resize((width, round(width * tight.height / tight.width)), Image.Resampling.BICUBIC)
    close_up.save(tmp_path / "close-up.jpg", quality=92)
    [(x, y, w, h)] = analyze_file(tmp_path / "close-up.jpg").faces
    assert w >= 0.8 * close_up.width and x >= 0 and x + w <= close_up.width  # the whole frame, inside it
    assert y >= 0 and y + h <= close_up.height
