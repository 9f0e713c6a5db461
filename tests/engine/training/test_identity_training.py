"""Identity during a training: the fake sd-scripts writes samples of chosen faces (real photos of
three people) at chosen steps, as the real one names and places them; each is scored against
Mia's references, each checkpoint gets its samples' median, and the best one is suggested."""
from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest

from studio.engine.identity import descriptors
from studio.engine.training.command import TrainingFiles
from studio.engine.training.identity import read_scores, sample_label, scores_file, suggest
from studio.engine.training.jobs import resume_training, submit_training
from studio.engine.training.results import checkpoints_of
from tests.conftest import wait_until
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
        assert (found["samples"], found["step"], found["revision"]) == (3, step, 1)
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


def _scored_steps(job_root: Path) -> list[int]:
    return [s.step for s in read_scores(scores_file(job_root)).scores]


def test_samples_are_scored_while_the_training_runs(setup: Setup, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKE_SD_SCRIPTS_HANG_AT", "7")  # hangs after the samples of steps 3 and 6
    monkeypatch.setattr("studio.engine.training.watch.STOP_GRACE_S", 1.0)
    job = submit_training(setup.studio, setup.workspace_id, setup.request(max_train_steps=30,
                                                                          sample_every_n_steps=3))
    root = Path(job.payload["root"])
    runner = threading.Thread(target=setup.run_next)
    runner.start()
    try:
        wait_until(lambda: _scored_steps(root) == [3, 6], timeout=30, what="the samples to be scored")
        assert setup.job(job.id).status == "processing"
    finally:
        setup.studio.jobs.cancel(setup.workspace_id, job.id)
        runner.join(timeout=30)
    assert setup.job(job.id).status == "canceled"


def test_a_resume_keeps_the_scores_before_its_state_and_scores_the_steps_trained_again(
        setup: Setup, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKE_SD_SCRIPTS_FAIL", "oom")
    monkeypatch.setenv("FAKE_SD_SCRIPTS_FAIL_AT", "10")  # after the samples of steps 3, 6 and 9
    job = submit_training(setup.studio, setup.workspace_id, setup.request(sample_every_n_steps=3))
    setup.run_next()
    root = Path(job.payload["root"])
    assert setup.job(job.id).status == "failed" and _scored_steps(root) == [3, 6, 9]
    first = read_scores(scores_file(root)).scores
    monkeypatch.delenv("FAKE_SD_SCRIPTS_FAIL")
    resume_training(setup.studio, setup.workspace_id, job.id)  # from the state of step 8
    setup.run_next()
    assert setup.job(job.id).status == "completed"
    again = read_scores(scores_file(root)).scores
    # Step 9's score of the failed run went; the resumed run's step 9 was scored (its sample may
    # have the old one's name: both made within the same second here).
    assert [s.step for s in again] == [3, 6, 9, 12] and again[:2] == first[:2]
