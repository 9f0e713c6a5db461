"""The face model's files are found in the installed package (no download), and load."""
from __future__ import annotations

from studio.engine.identity import model


def test_both_model_files_are_in_the_installed_package() -> None:
    folder = model.model_folder()
    assert folder.name == "models" and folder.parent.name == model.PACKAGE
    for name in (model.LANDMARKS, model.RESNET):
        assert (folder / name).stat().st_size > 1_000_000  # the real weights, not a pointer file
    assert model.available()
