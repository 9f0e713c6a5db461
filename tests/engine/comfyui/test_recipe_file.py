"""A recipe written into a PNG's own bytes and read back, and the one-line reasons when none is there."""
from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from studio.engine.comfyui.recipe_file import NoRecipe, read_recipe, with_recipe

RECIPE = {"template": "txt2img-sd15-lora", "seed": 42,
          "values": {"positive": "Mira auf dem Dach, 夕焼け", "steps": 20, "cfg": 6.5}}


def png_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.effect_noise((32, 32), 50).convert("RGB").save(buffer, format="PNG")
    return buffer.getvalue()


def test_the_recipe_round_trips_and_the_pixels_stay(tmp_path: Path) -> None:
    plain = png_bytes()
    path = tmp_path / "made.png"
    path.write_bytes(with_recipe(plain, RECIPE))
    assert read_recipe(path) == RECIPE
    with Image.open(path) as reopened, Image.open(io.BytesIO(plain)) as original:
        assert reopened.tobytes() == original.tobytes()
        assert reopened.info["influencerai-recipe"]  # Pillow reads the chunk as text too


def test_when_and_how_fast_stay_out_so_the_same_recipe_gives_the_same_bytes(tmp_path: Path) -> None:
    plain = png_bytes()
    first = with_recipe(plain, {**RECIPE, "prompt_id": "a", "timings": {"job": 1.5}})
    again = with_recipe(plain, {**RECIPE, "prompt_id": "b", "timings": {"job": 2.5}})
    assert first == again
    path = tmp_path / "made.png"
    path.write_bytes(first)
    assert read_recipe(path) == RECIPE


def test_a_jpeg_comes_back_unchanged() -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buffer, format="JPEG")
    assert with_recipe(buffer.getvalue(), RECIPE) == buffer.getvalue()


@pytest.mark.parametrize(("content", "reason"), [
    (b"hello", "is not a PNG picture"),
    (None, "has no studio recipe"),
])
def test_files_without_a_recipe_say_why_in_one_line(tmp_path: Path, content: bytes | None, reason: str) -> None:
    path = tmp_path / "dropped.png"
    path.write_bytes(content if content is not None else png_bytes())
    with pytest.raises(NoRecipe) as caught:
        read_recipe(path)
    assert reason in str(caught.value) and "\n" not in str(caught.value)


def test_a_missing_file_is_a_readable_no_recipe(tmp_path: Path) -> None:
    with pytest.raises(NoRecipe, match="cannot be read"):
        read_recipe(tmp_path / "gone.png")
