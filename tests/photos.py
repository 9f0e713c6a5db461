"""Real photographs of three different people, from packages the tests install, each with a
licence that allows it (no photo of a real person is committed here):

- ``astronaut``: scikit-image's astronaut (Eileen Collins, a NASA photograph in the public domain);
- ``hopper``: matplotlib's sample ``grace_hopper.jpg`` (a US Navy photograph, public domain);
- ``luis``: mahotas' demo ``luispedro.jpg`` (its author, shipped in the MIT-licensed package).

Each is returned as an RGB uint8 array; ``group`` puts them side by side as one picture.
"""
from __future__ import annotations

import importlib.util
from functools import cache
from pathlib import Path

import numpy as np
from PIL import Image

PEOPLE = ("astronaut", "hopper", "luis")


def _package_file(package: str, *parts: str) -> Path:
    spec = importlib.util.find_spec(package)
    assert spec is not None and spec.submodule_search_locations, f"{package} is a test dependency"
    return Path(next(iter(spec.submodule_search_locations))).joinpath(*parts)


@cache
def _photo(name: str) -> np.ndarray:
    if name == "astronaut":
        from skimage import data
        return np.asarray(data.astronaut())
    if name == "hopper":
        path = _package_file("matplotlib", "mpl-data", "sample_data", "grace_hopper.jpg")
    elif name == "luis":
        path = _package_file("mahotas", "demos", "data", "luispedro.jpg")
    else:
        raise KeyError(name)
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"))


def photo(name: str) -> np.ndarray:
    """The photo of one of PEOPLE, RGB uint8 (a fresh copy each call)."""
    return _photo(name).copy()


def photo_image(name: str) -> Image.Image:
    return Image.fromarray(photo(name))


def group(names: tuple[str, ...] = PEOPLE, height: int = 400) -> Image.Image:
    """The people's photos scaled to one height and put side by side, left to right."""
    parts = [photo_image(n) for n in names]
    parts = [p.resize((round(p.width * height / p.height), height)) for p in parts]
    canvas = Image.new("RGB", (sum(p.width for p in parts), height), "white")
    x = 0
    for part in parts:
        canvas.paste(part, (x, 0))
        x += part.width
    return canvas
