"""The crop rule of crop-to-fill, shared by video exports, still exports and the UI previews."""
from __future__ import annotations

import pytest

from studio.engine.media.framing import Box, fill_box, fill_filter


def test_a_wide_picture_loses_its_sides_by_the_focus() -> None:
    assert fill_box(source=(1920, 1080), frame=(1080, 1920), focus=(0.5, 0.5)) == Box(
        pytest.approx(656.25), 0.0, pytest.approx(607.5), 1080.0)
    left = fill_box(source=(1920, 1080), frame=(9, 16), focus=(0.0, 0.5))
    right = fill_box(source=(1920, 1080), frame=(9, 16), focus=(1.0, 0.5))
    assert left.x == 0 and right.x + right.w == pytest.approx(1920)


def test_a_tall_picture_loses_top_or_bottom_and_focus_stays_inside() -> None:
    box = fill_box(source=(1000, 3000), frame=(1080, 1350), focus=(0.5, 2.0))  # clamped to 1
    assert (box.x, box.w) == (0.0, 1000.0)
    assert box.h == pytest.approx(1250) and box.y + box.h == pytest.approx(3000)
    assert box.corners() == (0.0, box.y, 1000.0, 3000.0)


def test_the_same_aspect_keeps_everything() -> None:
    assert fill_box(source=(1080, 1080), frame=(500, 500), focus=(0.2, 0.9)) == Box(0, 0, 1080, 1080)


def test_the_ffmpeg_chain_states_the_same_rule() -> None:
    assert fill_filter(width=1080, height=1920, focus=(0.25, 0.5)) == (
        "scale=1080:1920:force_original_aspect_ratio=increase,crop=1080:1920:(iw-ow)*0.25:(ih-oh)*0.5")
