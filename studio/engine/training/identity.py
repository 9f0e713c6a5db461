"""Identity during training: every sample picture sd-scripts writes is scored against the
influencer's reference faces as it appears, and each checkpoint gets the median score of the
samples made at its step.

sd-scripts names a sample ``<output_name>_<step:06d>_<prompt:02d>_<yyyymmddHHMMSS>[_<seed>].png``,
or ``…_e<epoch:06d>_…`` when it samples at an epoch's end (and ``e000000`` before the first step);
an epoch label carries no step, so the watcher hands the step it saw sampling start with.

Scores are kept with the run in ``identity.jsonl`` (one JSON object per sample, appended and
flushed line by line, so a reader never sees half a record) beside ``metrics.jsonl``. Scoring
runs in a thread of its own, which hands each picture to the studio's picture worker processes
(a sample costs about 0.2–0.4 s on one core, and dlib holds the GIL throughout: in this process
it stalled the log-following thread up to 250 ms per sample, there 16 ms). It never fails the
training: without references, without the face model or with an unreadable picture a sample is
recorded without a score and with the reason, which the Training page shows once.
"""
from __future__ import annotations

import json
import logging
import queue
import re
import threading
import uuid
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from studio.engine.db.database import Database
from studio.engine.db.models import LoraModel
from studio.engine.db.repositories import Repository
from studio.engine.fsutil import atomic_write_text
from studio.engine.identity import descriptors
from studio.engine.identity.model import ModelUnavailable
from studio.engine.identity.scoring import picture_faces, reference_of

SCORES_NAME = "identity.jsonl"
UNREADABLE = "A sample picture could not be read: it is not scored"
log = logging.getLogger("studio.training.identity")
_SAMPLE = re.compile(r"_(e?)(\d{6})_(\d{2})_\d{14}(?:_\d+)?\.png$")


@dataclass(frozen=True, slots=True)
class SampleScore:
    """One sample picture: her face's score and distance (None without a face or a score),
    her face's descriptor (base64, for the samples' diversity) and why it has no score."""

    name: str
    step: int
    score: float | None = None
    distance: float | None = None
    faces: int = 0
    descriptor: str | None = None
    reason: str = ""
    revision: int | None = None  # of the references it was scored against (Influencer.identity)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SampleScore:
        return cls(name=str(data["name"]), step=int(data["step"]), score=_float(data.get("score")),
                   distance=_float(data.get("distance")), faces=int(data.get("faces") or 0),
                   descriptor=data.get("descriptor") or None, reason=str(data.get("reason") or ""),
                   revision=data["revision"] if isinstance(data.get("revision"), int) else None)


def scores_file(root: Path) -> Path:
    """The training's scores, beside its metrics.jsonl."""
    return root / SCORES_NAME


def sample_label(name: str) -> tuple[str, int, int] | None:
    """("step", 500, 0) or ("epoch", 2, 1) from an sd-scripts sample file name; None otherwise."""
    found = _SAMPLE.search(name)
    if found is None:
        return None
    return ("epoch" if found.group(1) else "step"), int(found.group(2)), int(found.group(3))


@dataclass(frozen=True, slots=True)
class ScoresRead:
    scores: list[SampleScore]
    offset: int
    restarted: bool  # the file was rewritten (a resume dropped steps): read from the start


def read_scores(path: Path, offset: int = 0) -> ScoresRead:
    """Records appended since ``offset``; a half-written last line waits for the next read."""
    try:
        with path.open("rb") as handle:
            restarted = handle.seek(0, 2) < offset
            start = 0 if restarted else offset
            handle.seek(start)
            data = handle.read()
    except FileNotFoundError:
        return ScoresRead([], 0, offset > 0)
    complete = data[:data.rfind(b"\n") + 1]
    scores = []
    for line in complete.splitlines():
        try:
            scores.append(SampleScore.from_dict(json.loads(line)))
        except (ValueError, KeyError, TypeError):
            continue  # a line from a run that was killed while writing it
    return ScoresRead(scores, start + len(complete), restarted)


def score_sample(path: Path, step: int, centroid: np.ndarray) -> SampleScore:
    """Her face in the sample (the one closest to the references), its score and descriptor."""
    try:
        found, _boxes = picture_faces(path)
    except ValueError:
        return SampleScore(path.name, step, reason=UNREADABLE)
    except ModelUnavailable as error:
        return SampleScore(path.name, step, reason=f"Identity is not scored: {error}")
    if not found:
        return SampleScore(path.name, step, faces=0)
    distances = [descriptors.distance(d, centroid) for d in found]
    best = int(np.argmin(distances))
    return SampleScore(path.name, step, score=descriptors.score(distances[best]), distance=distances[best],
                       faces=len(found), descriptor=descriptors.encode(found[best]))


def _score_args(args: tuple[Path, int, np.ndarray]) -> SampleScore:
    """score_sample in a picture worker process (a module-level function, picklable)."""
    return score_sample(*args)


def score_elsewhere(sample: Path, step: int, centroid: np.ndarray) -> SampleScore:
    """score_sample in one of the picture worker processes, so the GIL stays free here; in this
    process where there is one core only."""
    from studio.engine.datasets.pool import map_ordered
    _item, outcome = next(map_ordered(iter([(sample, step, centroid)]), task=lambda a: a, work=_score_args))
    if isinstance(outcome, SampleScore):
        return outcome
    return SampleScore(sample.name, step, reason=UNREADABLE)


def no_references_reason(name: str) -> str:
    return f"No reference faces for {name}: identity is not scored"


def influencer_centroid(db: Database, workspace_id: uuid.UUID,
                        influencer_id: uuid.UUID) -> tuple[np.ndarray | None, str, int | None]:
    """Her references' centroid and revision, or None and the reason identity cannot be scored.
    Read once, as the training starts: every sample of a run is scored against the same faces."""
    her = reference_of(db, workspace_id, influencer_id)
    if her is None:
        return None, "The influencer is gone: identity is not scored", None
    if her.centroid is None:
        return None, no_references_reason(her.name), None
    return her.centroid, "", her.revision


_REFRESH = object()  # a queue item: look at the checkpoints again
_STOP = object()


class SampleScorer:
    """Scores samples in a thread of its own, appends each to the scores file and then calls
    ``on_scored`` with every score so far (the checkpoints' identity is refreshed from them)."""

    def __init__(self, path: Path, centroid: np.ndarray | None, reason: str, *, revision: int | None = None,
                 on_scored: Callable[[list[SampleScore]], None] | None = None) -> None:
        self.path = path
        self.centroid = centroid
        self.reason = reason
        self.revision = revision
        self.on_scored = on_scored
        self.scores = read_scores(path).scores
        self._names = {s.name for s in self.scores}
        self._stale: dict[str, int] = {}  # an earlier run's samples never scored -> their mtime
        self._queue: queue.Queue[object] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="sample-identity", daemon=True)

    def start(self, *, resume_step: int, samples_dir: Path) -> SampleScorer:
        """A resumed run trains the steps after ``resume_step`` again: their old scores go, and
        the old run's samples past it (still in the folder) are never scored."""
        kept = [s for s in self.scores if s.step <= resume_step]
        if len(kept) != len(self.scores) or not resume_step:
            self.scores = kept if resume_step else []
            atomic_write_text(self.path, "".join(json.dumps(s.to_dict()) + "\n" for s in self.scores))
        self._names = {s.name for s in self.scores}
        for old in samples_dir.glob("*.png") if samples_dir.is_dir() else []:
            label = sample_label(old.name)
            if label is None or label[0] == "epoch" or label[1] > resume_step or not resume_step:
                self._stale[old.name] = old.stat().st_mtime_ns
        self._thread.start()
        return self

    def known(self, sample: Path) -> bool:
        """Scored or queued already, or an earlier run's sample (until a new one of the same
        name, made within the same second, replaces it)."""
        if sample.name in self._names:
            return True
        if sample.name not in self._stale:
            return False
        try:
            if sample.stat().st_mtime_ns == self._stale[sample.name]:
                return True
        except OSError:
            return True
        del self._stale[sample.name]
        return False

    def add(self, sample: Path, step: int) -> None:
        if sample.name not in self._names:
            self._names.add(sample.name)
            self._queue.put((sample, step))

    def checkpoint_saved(self) -> None:
        self._queue.put(_REFRESH)

    def close(self) -> None:
        """Scores what is still waiting, refreshes the checkpoints a last time, ends the thread."""
        if self._thread.is_alive():
            self._queue.put(_REFRESH)
            self._queue.put(_STOP)
            self._thread.join()

    def _run(self) -> None:
        while (item := self._queue.get()) is not _STOP:
            try:
                if item is _REFRESH:
                    self._refresh()
                elif isinstance(item, tuple):
                    self._score(*item)
            except Exception:  # identity never fails a training
                log.exception("scoring a training sample failed")

    def _score(self, sample: Path, step: int) -> None:
        if self.centroid is None:
            found = SampleScore(sample.name, step, reason=self.reason)
        else:
            found = replace(score_elsewhere(sample, step, self.centroid), revision=self.revision)
        with self.path.open("a", encoding="utf-8") as out:
            out.write(json.dumps(found.to_dict()) + "\n")
        self.scores.append(found)
        self._refresh()

    def _refresh(self) -> None:
        if self.on_scored is not None and self.scores:
            self.on_scored(list(self.scores))


def start_scoring(db: Database, *, workspace_id: uuid.UUID, job_id: uuid.UUID, influencer_id: uuid.UUID,
                  root: Path, samples_dir: Path, resume_step: int) -> SampleScorer:
    """The training job's scorer, started: each score refreshes the job's checkpoints."""
    centroid, reason, revision = influencer_centroid(db, workspace_id, influencer_id)

    def refresh(scores: list[SampleScore]) -> None:
        refresh_checkpoints(db, workspace_id, job_id, step_summaries(scores))

    scorer = SampleScorer(scores_file(root), centroid, reason, revision=revision, on_scored=refresh)
    return scorer.start(resume_step=resume_step, samples_dir=samples_dir)


def refresh_checkpoints(db: Database, workspace_id: uuid.UUID, job_id: uuid.UUID,
                        summaries: Sequence[StepIdentity]) -> int:
    """Writes each checkpoint's identity into its LoraModel.meta where it changed; the count."""
    from studio.engine.training.results import checkpoints_of
    changed = 0
    for row in checkpoints_of(db, workspace_id, job_id=job_id):
        meta = row.meta or {}
        identity = checkpoint_identity(summaries, meta.get("step"))
        if identity is None or meta.get("identity") == identity:
            continue
        with db.session() as session:
            repo = Repository(session, workspace_id)
            fresh = repo.get(LoraModel, row.id)
            repo.update(fresh, meta={**(fresh.meta or {}), "identity": identity})
        changed += 1
    return changed


def _float(value: object) -> float | None:
    return float(value) if isinstance(value, (int, float)) else None


# Checkpoints -----------------------------------------------------------------------------------

DIVERSITY_DROP = 0.5  # a checkpoint's diversity under half its predecessors' best: overfitted
VALIDATION_RISE = 0.05  # validation loss 5 % above the lowest one before it: overfitted


@dataclass(frozen=True, slots=True)
class StepIdentity:
    """The samples of one sampling step: their median score, how many were scored, and their
    diversity (the mean distance between her faces in them, two scored faces at least)."""

    step: int
    median: float | None
    samples: int
    diversity: float | None
    revision: int | None = None  # of the references its samples were scored against


def step_summaries(scores: Sequence[SampleScore]) -> list[StepIdentity]:
    """One summary per sampling step, in step order (what the chart and the checkpoints use)."""
    by_step: dict[int, list[SampleScore]] = {}
    for found in scores:
        by_step.setdefault(found.step, []).append(found)
    return [_summary(step, by_step[step]) for step in sorted(by_step)]


def _summary(step: int, samples: list[SampleScore]) -> StepIdentity:
    scored = [s.score for s in samples if s.score is not None]
    faces = [descriptors.decode(s.descriptor) for s in samples if s.descriptor]
    pairs = [descriptors.distance(a, b) for i, a in enumerate(faces) for b in faces[i + 1:]]
    revisions = [s.revision for s in samples if s.revision is not None]
    return StepIdentity(step=step, median=round(float(np.median(scored)), 3) if scored else None,
                        samples=len(scored), diversity=round(float(np.mean(pairs)), 4) if pairs else None,
                        revision=max(revisions) if revisions else None)


def checkpoint_identity(summaries: Sequence[StepIdentity], step: int | None) -> dict[str, Any] | None:
    """What a checkpoint at ``step`` stores as ``LoraModel.meta["identity"]``: the samples made
    at its step, or at the nearest sampling step before it (samples without a face, or not
    scored, are left out of the median and the count). None before any sample."""
    if step is None:
        return None
    made = [s for s in summaries if s.step <= step]
    if not made:
        return None
    last = made[-1]
    return {"median": last.median, "samples": last.samples, "step": last.step, "diversity": last.diversity,
            "revision": last.revision}


def overfitted(identities: Sequence[dict[str, Any] | None]) -> list[bool]:
    """Checkpoints in training order that look overfitted. A checkpoint is overfitted when

    - its samples' diversity (the mean distance between her faces in them) falls under half
      (``DIVERSITY_DROP``) of the highest diversity of an earlier checkpoint whose samples already
      looked like her (median at the same-person score or above): the LoRA then draws one face
      in one pose whatever the prompt, where it first drew her in varied ones; earlier
      checkpoints that were not yet her do not count, since faces of other people are far apart;
    - or its ``val_loss`` (where the run's log carries one) is 5 % (``VALIDATION_RISE``) above
      the lowest validation loss before it.
    """
    flags: list[bool] = []
    best_diversity = 0.0
    lowest_loss: float | None = None
    for identity in identities:
        data = identity or {}
        diversity, loss = _float(data.get("diversity")), _float(data.get("val_loss"))
        flags.append((diversity is not None and diversity < DIVERSITY_DROP * best_diversity)
                     or (loss is not None and lowest_loss is not None
                         and loss > lowest_loss * (1 + VALIDATION_RISE)))
        median = _float(data.get("median"))
        if diversity is not None and median is not None and median >= descriptors.SAME_PERSON_SCORE:
            best_diversity = max(best_diversity, diversity)
        if loss is not None:
            lowest_loss = loss if lowest_loss is None else min(lowest_loss, loss)
    return flags


def suggest(identities: Sequence[dict[str, Any] | None]) -> int | None:
    """The index of the checkpoint to use: the highest median identity among those not
    overfitted; the earliest on a tie (the same samples serve a last step and the final file)."""
    flags = overfitted(identities)
    best: int | None = None
    for index, identity in enumerate(identities):
        median = _float((identity or {}).get("median"))
        if median is None or flags[index]:
            continue
        if best is None or median > float((identities[best] or {})["median"]):
            best = index
    return best


def suggestions(rows: Sequence[tuple[object, dict[str, Any] | None]]) -> list[tuple[bool, bool]]:
    """(suggested, overfitted) for checkpoints of one or more trainings, each given as (its
    training's id, its identity) in training order; each training has its own suggestion."""
    groups: dict[object, list[int]] = {}
    for index, (training, _identity) in enumerate(rows):
        groups.setdefault(training, []).append(index)
    marks = [(False, False)] * len(rows)
    for members in groups.values():
        identities = [rows[i][1] for i in members]
        best, flags = suggest(identities), overfitted(identities)
        for position, index in enumerate(members):
            marks[index] = (position == best, flags[position])
    return marks
