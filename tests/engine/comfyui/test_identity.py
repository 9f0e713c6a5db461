"""Every picture a generation stores gets her identity score in Asset.meta, beside its recipe."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from studio.engine.comfyui.identity import NO_FACE, NO_REFERENCES, Reference, picture_identity, score_of
from studio.engine.core import Studio
from studio.engine.db.models import Asset, Influencer, Job
from studio.engine.identity import model
from tests.engine.comfyui.helpers import reload, run_next, submit
from tests.engine.comfyui.identity_helpers import by_seed, set_references
from tests.fakes.comfyui_server import FakeComfyUI


def stored(studio: Studio, job: Job) -> Asset:
    done = reload(studio, job)
    assert done.status == "completed", done.error
    with studio.db.session() as session:
        [asset] = session.query(Asset).filter_by(job_id=job.id).all()
        return asset


def test_her_likeness_scores_above_the_threshold_and_someone_else_below(
        studio: Studio, fake: FakeComfyUI, mia: Influencer) -> None:
    set_references(studio, mia, "astronaut", revision=3)
    fake.picture_for = by_seed({11: "astronaut", 12: "hopper"})
    her, other = submit(studio, influencer=mia, seed=11, count=2)
    run_next(studio)
    run_next(studio)

    like = stored(studio, her).meta["identity"]
    assert like["faces"] == 1 and like["revision"] == 3 and "note" not in like
    assert like["score"] >= 0.5 and like["distance"] < 0.6
    unlike = stored(studio, other).meta["identity"]
    assert unlike["faces"] == 1 and unlike["score"] < 0.5 and unlike["distance"] > 0.6
    assert stored(studio, her).meta["recipe"]["seed"] == 11  # the recipe itself is unchanged


def test_without_references_or_a_face_the_score_is_empty_and_says_why(
        studio: Studio, fake: FakeComfyUI, mia: Influencer) -> None:
    [job] = submit(studio, influencer=mia)
    run_next(studio)
    assert stored(studio, job).meta["identity"] == {"score": None, "distance": None, "faces": None,
                                                    "revision": 0, "note": NO_REFERENCES}
    set_references(studio, mia, "luis")
    [faceless] = submit(studio, influencer=mia)  # the fake's default picture: 8×8 of one colour
    run_next(studio)
    verdict = stored(studio, faceless).meta["identity"]
    assert (verdict["score"], verdict["faces"], verdict["note"]) == (None, 0, NO_FACE)


def test_a_picture_of_no_influencer_gets_no_score(studio: Studio, fake: FakeComfyUI) -> None:
    [job] = submit(studio)
    run_next(studio)
    assert "identity" not in stored(studio, job).meta


def test_a_missing_face_model_leaves_the_job_done_with_a_readable_note(
        studio: Studio, fake: FakeComfyUI, mia: Influencer, monkeypatch: pytest.MonkeyPatch) -> None:
    set_references(studio, mia, "astronaut")

    def missing(*_args: object, **_kwargs: object) -> None:
        raise model.ModelUnavailable("the face model is not installed (pip install face-recognition-models)")
    monkeypatch.setattr(model, "detect", missing)
    fake.picture_for = by_seed({5: "astronaut"})
    [job] = submit(studio, influencer=mia, seed=5)
    run_next(studio)
    verdict = stored(studio, job).meta["identity"]
    assert verdict["score"] is None and verdict["note"].startswith("the face model is not installed")
    assert score_of(stored(studio, job).meta) is None


def test_an_unreadable_file_is_noted_not_raised(tmp_path: Path) -> None:
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not a picture")
    verdict = picture_identity(broken, Reference(name="Mia", centroid=np.zeros(128), revision=2))
    assert verdict["score"] is None and verdict["revision"] == 2
    assert verdict["note"].startswith("the picture could not be scored")
