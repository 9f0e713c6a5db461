"""Identity in the dataset analysis, on real photographs imported as files: each face's descriptor
is taken in the same pass (from a larger decode where the face is small), the verdicts follow the
analysis, a cached analysis without descriptors gets them alone, and a missing model is no failure."""
from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from studio.engine.core import Studio
from studio.engine.datasets.analysis import analyze_dataset, analyze_file
from studio.engine.datasets.importer import import_paths
from studio.engine.datasets.service import list_images
from studio.engine.db.models import Dataset, DatasetImage
from studio.engine.identity import describing, descriptors, model
from studio.engine.identity.dataset import DIFFERENT, NO_FACE, SEVERAL, flagged_ids
from studio.engine.media.thumbnails import decode_image
from tests.engine.datasets.corpus import save, scene
from tests.engine.identity.people import VARIANTS, variant
from tests.photos import group


def _import(studio: Studio, dataset: Dataset, folder: Path) -> dict[str, DatasetImage]:
    import_paths(studio, dataset, [folder])
    summary = analyze_dataset(studio, dataset)
    assert summary.identity == {DIFFERENT: 1, SEVERAL: 1, NO_FACE: 1}
    return {i.original_name: i for i in list_images(studio, dataset)}


def _mixed(folder: Path) -> Path:
    for kind in VARIANTS:
        save(folder / f"her-{kind}.jpg", variant("astronaut", kind), quality=90)
    save(folder / "someone-else.jpg", variant("hopper", "plain"), quality=90)
    save(folder / "the-three.jpg", group(), quality=90)
    save(folder / "landscape.png", scene((400, 300), seed=4))
    return folder


def test_exactly_the_other_person_and_the_group_are_flagged(studio: Studio, dataset: Dataset,
                                                            tmp_path: Path) -> None:
    images = _import(studio, dataset, _mixed(tmp_path / "drop"))
    assert flagged_ids(studio, dataset.id, DIFFERENT) == [images["someone-else.jpg"].id]
    assert flagged_ids(studio, dataset.id, NO_FACE) == [images["landscape.png"].id]
    crowd = images["the-three.jpg"]
    assert (crowd.identity or {})["flags"] == [SEVERAL]
    x, _y, w, _h = crowd.faces[(crowd.identity or {})["face"]]
    assert x + w / 2 < crowd.width / 3  # her face: the astronaut is the left one
    for kind in VARIANTS:
        verdict = images[f"her-{kind}.jpg"].identity or {}
        assert verdict["flags"] == [] and verdict["score"] > 0.6, kind
    assert all(len(i.face_descriptors) == len(i.faces) for i in images.values())


def test_a_small_face_is_described_from_a_larger_decode(tmp_path: Path) -> None:
    """A 3000×4000 photo whose face is about 72 px wide in the analysis's picture: its descriptor is
    close to the one taken at full size."""
    portrait = variant("astronaut", "plain")
    picture = Image.new("RGB", (3000, 4000), (90, 110, 130))
    picture.paste(portrait.resize((3000, 3000)), (0, 500))
    path = save(tmp_path / "big.jpg", picture, quality=92)
    result = analyze_file(path)
    [box] = result.faces
    assert box[2] * 500 / 4000 < describing.MIN_FACE  # small in the analysis's picture
    full = model.describe(np.asarray(decode_image(path.read_bytes()).image), [(box[0], box[1], box[2], box[3])])[0]
    assert descriptors.distance(descriptors.decode((result.descriptors or [])[0]), full) < 0.1


def test_a_cached_analysis_gets_its_descriptors_alone(studio: Studio, dataset: Dataset, tmp_path: Path) -> None:
    _import(studio, dataset, _mixed(tmp_path / "drop"))
    with studio.db.session() as session:
        for image in session.query(DatasetImage).filter(DatasetImage.dataset_id == dataset.id):
            image.face_descriptors = []
    before = {i.id: i.analyzed_at for i in list_images(studio, dataset)}
    summary = analyze_dataset(studio, dataset)
    assert summary.analyzed == 0 and summary.identity == {DIFFERENT: 1, SEVERAL: 1, NO_FACE: 1}
    after = list_images(studio, dataset)
    assert {i.id: i.analyzed_at for i in after} == before  # the rest was not redone
    assert all(len(i.face_descriptors) == len(i.faces) for i in after)


def test_without_the_model_the_analysis_goes_on(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                 caplog: pytest.LogCaptureFixture) -> None:
    def missing() -> None:
        raise model.ModelUnavailable("the face model is not installed (pip install face-recognition-models)")
    monkeypatch.setattr(model, "load", missing)
    monkeypatch.setattr(describing._State, "warned", False)
    path = save(tmp_path / "her.jpg", variant("astronaut", "plain"), quality=90)
    with caplog.at_level(logging.WARNING, logger="studio.identity"):
        first, second = analyze_file(path), analyze_file(path)
    assert len(first.faces) == 1 and first.descriptors is None and second.descriptors is None
    assert [r.getMessage() for r in caplog.records] == [
        "faces are analysed without identity: the face model is not installed (pip install face-recognition-models)"]
