"""Her pictures scored again when her references change: the score-pictures job."""
from __future__ import annotations

from studio.engine.comfyui.identity import NO_REFERENCES, stale_pictures, submit_rescore
from studio.engine.core import Studio
from studio.engine.db.models import Asset, Influencer
from tests.conftest import run_next_task
from tests.engine.comfyui.helpers import run_next, submit
from tests.engine.comfyui.identity_helpers import by_seed, set_references
from tests.fakes.comfyui_server import FakeComfyUI


def verdicts(studio: Studio, influencer: Influencer) -> dict[int, dict]:
    with studio.db.session() as session:
        assets = session.query(Asset).filter_by(influencer_id=influencer.id).all()
        return {a.meta["recipe"]["seed"]: a.meta["identity"] for a in assets}


def test_pictures_made_before_her_references_are_scored_when_asked(
        studio: Studio, fake: FakeComfyUI, mia: Influencer) -> None:
    ws = studio.workspace().id
    fake.picture_for = by_seed({1: "astronaut", 2: "hopper"})
    for _ in submit(studio, influencer=mia, seed=1, count=2):
        run_next(studio)
    assert {v["note"] for v in verdicts(studio, mia).values()} == {NO_REFERENCES}

    refused = submit_rescore(studio, ws, mia.id)
    run_next_task(studio, "general")
    assert studio.jobs.get(ws, refused.id).error == (
        "Mia has no reference faces yet: choose them, then score her pictures again.")

    set_references(studio, mia, "astronaut", revision=1)
    assert len(stale_pictures(studio.db, ws, mia.id, 1)) == 2
    job = submit_rescore(studio, ws, mia.id)
    run_next_task(studio, "general")
    done = studio.jobs.get(ws, job.id)
    assert done.status == "completed" and done.result["scored"] == 2
    scored = verdicts(studio, mia)
    assert scored[1]["score"] >= 0.5 > scored[2]["score"]
    assert {v["revision"] for v in scored.values()} == {1}
    assert stale_pictures(studio.db, ws, mia.id, 1) == []
    assert len(stale_pictures(studio.db, ws, mia.id, 2)) == 2  # her references changed again
