"""The pieces of identity during training: sample names as sd-scripts writes them, the scores
file, the scorer's resume rule, checkpoint medians and the overfitting rule."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from studio.engine.training.identity import (
    SampleScore,
    SampleScorer,
    checkpoint_identity,
    overfitted,
    read_scores,
    sample_label,
    step_summaries,
    suggest,
)


@pytest.mark.parametrize(("name", "label"), [
    # train_util.sample_image_inference: f"{output_name}_{num_suffix}_{i:02d}_{ts_str}{seed_suffix}.png"
    ("mia-main-v1_000500_00_20260216120000_42.png", ("step", 500, 0)),
    ("mia_e000002_01_20260216120000.png", ("epoch", 2, 1)),
    ("mia_e000000_00_20260216120000_7.png", ("epoch", 0, 0)),  # --sample_at_first
    ("000040_03_20260216120000.png", None),  # no output name: no leading "_" to anchor on
    ("notes.png", None),
])
def test_sample_names_follow_sd_scripts(name: str, label: tuple[str, int, int] | None) -> None:
    assert sample_label(name) == label


def test_scores_are_read_from_an_offset_and_a_rewritten_file_restarts(tmp_path: Path) -> None:
    path = tmp_path / "identity.jsonl"
    first = SampleScore("a_000004_00_20260216120000.png", 4, score=0.8, distance=0.24, faces=1)
    path.write_text(json.dumps(first.to_dict()) + "\n" + '{"name": "half')
    read = read_scores(path)
    assert read.scores == [first] and not read.restarted
    path.write_text("")
    again = read_scores(path, read.offset)
    assert again.restarted and again.scores == [] and again.offset == 0


def test_a_resume_drops_later_scores_and_never_scores_the_old_runs_later_samples(tmp_path: Path) -> None:
    path, samples = tmp_path / "identity.jsonl", tmp_path / "sample"
    samples.mkdir()
    kept = SampleScore("m_000004_00_20260216120000.png", 4, reason="no references")
    dropped = SampleScore("m_000008_00_20260216120000.png", 8, reason="no references")
    path.write_text("".join(json.dumps(s.to_dict()) + "\n" for s in (kept, dropped)))
    for name in (kept.name, dropped.name, "m_000006_00_20260216120000.png"):
        (samples / name).write_bytes(b"png")
    scorer = SampleScorer(path, None, "no references").start(resume_step=6, samples_dir=samples)
    try:
        assert [s.name for s in read_scores(path).scores] == [kept.name]
        assert scorer.known(samples / kept.name) and scorer.known(samples / dropped.name)
        assert not scorer.known(samples / "m_000006_00_20260216120000.png")  # made before the state
        (samples / dropped.name).write_bytes(b"png again")  # the resumed run's step 8, in the same second
        os.utime(samples / dropped.name, ns=(1, 1))
        assert not scorer.known(samples / dropped.name)
    finally:
        scorer.close()


def _scores(step: int, values: list[float]) -> list[SampleScore]:
    return [SampleScore(f"m_{step:06d}_{i:02d}_20260216120000.png", step, score=v) for i, v in enumerate(values)]


def test_a_checkpoint_takes_the_nearest_sampling_step_at_or_before_it() -> None:
    summaries = step_summaries([*_scores(4, [0.2, 0.4, 0.9]), *_scores(8, [0.7, 0.8])])
    assert checkpoint_identity(summaries, 3) is None
    assert checkpoint_identity(summaries, 6) == {"median": 0.4, "samples": 3, "step": 4, "diversity": None,
                                                   "revision": None}
    assert checkpoint_identity(summaries, 8)["median"] == pytest.approx(0.75)  # type: ignore[index]


def test_a_drop_in_diversity_after_she_appeared_marks_overfitting() -> None:
    identities = [
        {"median": 0.30, "diversity": 0.80},  # not her yet: faces of strangers are far apart
        {"median": 0.70, "diversity": 0.40},  # her, in varied ways
        {"median": 0.78, "diversity": 0.35},
        {"median": 0.85, "diversity": 0.12},  # one face whatever the prompt: overfitted
    ]
    assert overfitted(identities) == [False, False, False, True]
    assert suggest(identities) == 2


def test_a_rise_in_validation_loss_marks_overfitting_and_no_median_no_suggestion() -> None:
    identities = [{"median": 0.6, "val_loss": 0.10}, {"median": 0.7, "val_loss": 0.12}, None]
    assert overfitted(identities) == [False, True, False]
    assert suggest(identities) == 0
    assert suggest([None, {"median": None, "samples": 0}]) is None
