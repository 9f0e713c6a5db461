"""Identity during a training: the fake sd-scripts writes samples of chosen faces (real photos of
three people) at chosen steps, as the real one names and places them; each is scored against
Mia's references, each checkpoint gets its samples' median, and the best one is suggested."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from studio.engine.identity import descriptors
from studio.engine.training.command import TrainingFiles
from studio.engine.training.identity import read_scores, sample_label, scores_file, suggest
from studio.engine.training.jobs import submit_training
from studio.engine.training.results import checkpoints_of
from tests.engine.training.helpers import Setup
from tests.engine.training.identity_helpers import PROMPTS, her_at


def test_each_checkpoint_gets_its_samples_median_and_the_closest_is_suggested(
        setup: Setup, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    her_at(setup, tmp_path, monkeypatch, (4, 8, 12))
    job = submit_training(setup.studio, setup.workspace_id, setup.request(
        sample_every_n_steps=4, sample_prompts=PROMPTS))
    setup.run_next()
    done = setup.job(job.id)
    assert done.status == "completed", done.error
    scores = read_scores(scores_file(TrainingFiles(Path(job.payload["root"])).root)).scores
    labels = [sample_label(s.name) for s in scores]
    assert sorted((s.step, label[2]) for s, label in zip(scores, labels, strict=True) if label) == [
        (step, i) for step in (4, 8, 12) for i in range(3)]
    assert all(s.faces == 1 and s.score is not None for s in scores)
    rows = checkpoints_of(setup.studio.db, setup.workspace_id, job_id=job.id)
    identity = {(r.meta["kind"], r.meta["step"]): r.meta["identity"] for r in rows}
    by_step = {step: [s.score or 0.0 for s in scores if s.step == step] for step in (4, 8, 12)}
    for (_kind, step), found in identity.items():
        assert found["median"] == pytest.approx(float(np.median(by_step[step])), abs=1e-3)
        assert (found["samples"], found["step"]) == (3, step)
    assert identity[("step", 8)]["median"] > descriptors.SAME_PERSON_SCORE
    assert identity[("step", 4)]["median"] < descriptors.SAME_PERSON_SCORE
    assert identity[("step", 12)]["median"] < identity[("step", 8)]["median"]
    # Her variations are close together, the mix far apart; the step-8 one is not overfitted.
    assert identity[("step", 8)]["diversity"] < identity[("step", 12)]["diversity"]
    best = suggest([r.meta.get("identity") for r in rows])
    assert best is not None and (rows[best].meta["kind"], rows[best].meta["step"]) == ("step", 8)


def test_without_references_samples_are_recorded_with_the_reason(
        setup: Setup, tmp_path: Path) -> None:
    job = submit_training(setup.studio, setup.workspace_id, setup.request())
    setup.run_next()
    assert setup.job(job.id).status == "completed"
    scores = read_scores(scores_file(Path(job.payload["root"]))).scores
    assert [s.step for s in scores] == [6, 12]
    assert all(s.score is None and s.reason == "No reference faces for Mia: identity is not scored"
               for s in scores)
    rows = checkpoints_of(setup.studio.db, setup.workspace_id, job_id=job.id)
    assert [r.meta.get("identity", {}).get("median") for r in rows] == [None, None, None, None]
