"""What the Training page asks of the engine: blocking calls, run on background lanes only.

Each returns plain frozen values the UI thread can draw. ``snapshot`` is what the page reads
when the job hub reports a training changed: the queue, the selected training's row, the loss
points added to its metrics.jsonl since the last read (from a byte offset, so a long run is
never read twice), its samples' identity per step (identity.jsonl, read on from where the last
read stopped), its samples, log tail and saved checkpoints (the suggested one marked).
"""
from __future__ import annotations

import json
import re
import threading
import uuid
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from studio.engine.db.models import Dataset, Influencer
from studio.engine.db.repositories import Repository
from studio.engine.jobs.status import JobStatus
from studio.engine.training.command import TrainingFiles
from studio.engine.training.config import MUSUBI_FAMILIES
from studio.engine.training.identity import SampleScore, read_scores, scores_file, step_summaries
from studio.engine.training.jobs import JOB_TYPE, queued_trainings
from studio.engine.training.plan import TrainingPlan, TrainingRequest
from studio.ui.context import StudioContext

LOG_TAIL_LINES = 40
LOG_TAIL_BYTES = 16 * 1024
SAMPLE_SIDE = 96


@dataclass(frozen=True, slots=True)
class DatasetChoice:
    influencer_id: uuid.UUID
    dataset_id: uuid.UUID
    label: str


@dataclass(frozen=True, slots=True)
class TrainingRow:
    id: uuid.UUID
    title: str
    status: JobStatus
    progress: float
    stage: str
    message: str
    error: str
    output_name: str
    root: Path
    total_steps: int
    family: str = ""

    @property
    def finished(self) -> bool:
        return self.status.finished


@dataclass(frozen=True, slots=True)
class CheckpointRow:
    id: uuid.UUID
    name: str
    kind: str
    step: int | None
    epoch: int | None
    active: bool
    size_bytes: int
    path: Path
    ss_metadata: dict[str, str]
    identity: float | None = None  # the median identity score of its samples
    identity_samples: int = 0
    suggested: bool = False  # the highest identity among those not overfitted
    overfitted: bool = False


@dataclass(frozen=True, slots=True)
class IdentityPoint:
    step: int
    median: float  # of that step's samples' identity scores
    samples: int


@dataclass(frozen=True, slots=True)
class IdentityState:
    """The selected training's identity: one point per sampling step with a score, the latest
    sample's score and, where there is none, why (said once, not per sample)."""

    points: list[IdentityPoint] = field(default_factory=list)
    latest: float | None = None
    note: str = ""
    scores: dict[str, float] = field(default_factory=dict)  # sample file name -> its score


@dataclass(frozen=True, slots=True)
class LossPoint:
    step: int
    loss: float


@dataclass(frozen=True, slots=True)
class Snapshot:
    queue: list[TrainingRow]
    history: list[TrainingRow]
    selected: TrainingRow | None
    points: list[LossPoint] = field(default_factory=list)  # new since ``offset`` asked for
    offset: int = 0
    last_metric: dict[str, Any] | None = None
    samples: list[Path] = field(default_factory=list)
    sample_images: dict[str, Any] = field(default_factory=dict)  # name -> QImage, new ones only
    log_tail: list[str] = field(default_factory=list)
    checkpoints: list[CheckpointRow] = field(default_factory=list)
    identity: IdentityState = field(default_factory=IdentityState)


def datasets(context: StudioContext) -> list[DatasetChoice]:
    with context.studio.db.session() as session:
        repo = Repository(session, context.workspace_id)
        people = {i.id: i for i in repo.list(Influencer, order_by=Influencer.name)}
        rows = [d for d in repo.list(Dataset, order_by=Dataset.name) if d.influencer_id in people]
        return [DatasetChoice(d.influencer_id, d.id, f"{people[d.influencer_id].name} · {d.name}")
                for d in sorted(rows, key=lambda d: (people[d.influencer_id].name, d.name))]


def plan(context: StudioContext, request: TrainingRequest) -> TrainingPlan:
    from studio.engine.training.plan import plan_training
    return plan_training(context.studio, context.workspace_id, request)


def submit(context: StudioContext, request: TrainingRequest) -> uuid.UUID:
    from studio.engine.training.jobs import submit_training
    return submit_training(context.studio, context.workspace_id, request).id


def cancel(context: StudioContext, job_id: uuid.UUID) -> None:
    context.studio.jobs.cancel(context.workspace_id, job_id)


def resume(context: StudioContext, job_id: uuid.UUID) -> str:
    from studio.engine.training.jobs import resume_training
    return resume_training(context.studio, context.workspace_id, job_id).message


def reorder(context: StudioContext, job_ids: list[uuid.UUID]) -> None:
    from studio.engine.training.jobs import reorder_trainings
    reorder_trainings(context.studio, context.workspace_id, job_ids)


def set_active(context: StudioContext, lora_id: uuid.UUID) -> str:
    from studio.engine.training.results import set_active as mark
    return mark(context.studio.db, context.workspace_id, lora_id).name


def test_grid(context: StudioContext, job_id: uuid.UUID, lora_ids: list[uuid.UUID]) -> uuid.UUID:
    from studio.engine.training.grid import GridRequest, submit_test_grid
    grid = submit_test_grid(context.studio, context.workspace_id,
                            GridRequest(training_job_id=job_id, lora_ids=tuple(lora_ids)))
    return grid.sheet_job.id


def snapshot(context: StudioContext, selected: uuid.UUID | None, offset: int,
             samples_known: int = 0) -> Snapshot:
    studio, ws = context.studio, context.workspace_id
    queue = [_row(j) for j in queued_trainings(studio, ws)]
    waiting = {r.id for r in queue}
    history = [_row(j) for j in studio.jobs.list(ws, limit=100)
               if j.type == JOB_TYPE and j.id not in waiting][:30]
    chosen = next((r for r in [*queue, *history] if r.id == selected), None)
    if chosen is None:
        chosen = queue[0] if queue else (history[0] if history else None)
        offset = samples_known = 0
    if chosen is None:
        return Snapshot(queue=queue, history=history, selected=None)
    files = TrainingFiles(chosen.root)
    points, new_offset, last = read_metrics(files.metrics_file, offset)
    samples = _samples(files)
    return Snapshot(queue=queue, history=history, selected=chosen, points=points, offset=new_offset,
                    last_metric=last, samples=samples, sample_images=_thumbnails(samples[samples_known:]),
                    log_tail=log_tail(files.log_file), checkpoints=_checkpoints(context, chosen.id),
                    identity=identity_state(chosen))


def read_metrics(path: Path, offset: int) -> tuple[list[LossPoint], int, dict[str, Any] | None]:
    """Points appended since ``offset``; a half-written last line waits for the next read."""
    try:
        with path.open("rb") as handle:
            if handle.seek(0, 2) < offset:
                offset = 0  # a fresh run rewrote the file
            handle.seek(offset)
            data = handle.read()
    except FileNotFoundError:
        return [], 0, None
    complete = data[:data.rfind(b"\n") + 1]
    points, last = [], None
    for line in complete.splitlines():
        try:
            last = json.loads(line)
        except ValueError:
            continue
        if isinstance(last.get("loss"), (int, float)):
            points.append(LossPoint(int(last["step"]), float(last["loss"])))
    return points, offset + len(complete), last


# tqdm moves the cursor between its bars (ESC [ A) and redraws with carriage returns; a text
# view shows those as litter ("[A"), so terminal codes and other control characters go.
_TERMINAL_CODES = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b[@-_]|[\x00-\x08\x0b-\x1f\x7f]")


def log_tail(path: Path, lines: int = LOG_TAIL_LINES) -> list[str]:
    """The log's last lines, with runs of progress-bar redraws folded into their last one."""
    try:
        with path.open("rb") as handle:
            size = handle.seek(0, 2)
            handle.seek(max(0, size - LOG_TAIL_BYTES))
            text = handle.read().decode("utf-8", "replace")
    except FileNotFoundError:
        return []
    folded: deque[str] = deque(maxlen=lines)
    for raw in text.splitlines()[1:] if size > LOG_TAIL_BYTES else text.splitlines():
        line = _TERMINAL_CODES.sub("", raw)
        if folded and line.startswith("steps:") and folded[-1].startswith("steps:"):
            folded[-1] = line
        elif line.strip():
            folded.append(line)
    return list(folded)


def _samples(files: TrainingFiles) -> list[Path]:
    if not files.samples_dir.is_dir():
        return []
    return sorted(files.samples_dir.glob("*.png"), key=lambda p: p.name)


def _thumbnails(paths: list[Path]) -> dict[str, Any]:
    from studio.ui.thumbnails import load_preview
    images = {}
    for path in paths:
        try:
            images[path.name] = load_preview(path, SAMPLE_SIDE)
        except Exception:  # a sample still being written shows next time
            break
    return images


def _checkpoints(context: StudioContext, job_id: uuid.UUID) -> list[CheckpointRow]:
    from studio.engine.training.identity import overfitted, suggest
    from studio.engine.training.results import checkpoints_of
    loras = checkpoints_of(context.studio.db, context.workspace_id, job_id=job_id)
    identities = [(lora.meta or {}).get("identity") for lora in loras]
    best, flags = suggest(identities), overfitted(identities)
    rows = []
    for index, lora in enumerate(loras):
        meta, identity = lora.meta or {}, identities[index] or {}
        rows.append(CheckpointRow(id=lora.id, name=lora.name, kind=str(meta.get("kind", "")),
                                  step=meta.get("step"), epoch=meta.get("epoch"),
                                  active=bool(meta.get("active")), size_bytes=int(meta.get("size_bytes") or 0),
                                  path=context.studio.asset_path(lora.storage_key),
                                  ss_metadata=dict(meta.get("ss_metadata") or {}),
                                  identity=identity.get("median"), identity_samples=int(identity.get("samples") or 0),
                                  suggested=index == best, overfitted=flags[index]))
    return rows


class _ScoresCache:
    """Each training's scores read so far and where the read stopped: a poll reads only what
    was appended (a rewritten file, after a resume, is read again from the start)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._read: dict[Path, tuple[int, list[SampleScore]]] = {}

    def scores(self, path: Path) -> list[SampleScore]:
        with self._lock:
            offset, known = self._read.get(path, (0, []))
            found = read_scores(path, offset)
            known = found.scores if found.restarted else known + found.scores
            self._read[path] = (found.offset, known)
            return list(known)


_SCORES = _ScoresCache()


def identity_state(row: TrainingRow) -> IdentityState:
    if row.family in MUSUBI_FAMILIES:
        return IdentityState(note="Identity is not available for this family: musubi-tuner makes no "
                                  "sample pictures yet")
    scores = _SCORES.scores(scores_file(row.root))
    points = [IdentityPoint(s.step, s.median, s.samples) for s in step_summaries(scores) if s.median is not None]
    latest = scores[-1] if scores else None
    note = latest.reason if latest else ""
    if latest is not None and latest.score is None and not note:
        note = "no face in the latest sample"
    return IdentityState(points=points, latest=latest.score if latest else None, note=note,
                         scores={s.name: s.score for s in scores if s.score is not None})


def _row(job: Any) -> TrainingRow:
    payload = job.payload or {}
    return TrainingRow(id=job.id, title=job.title, status=JobStatus(job.status), progress=job.progress,
                       stage=job.stage, message=job.message, error=job.error,
                       output_name=str(payload.get("output_name", "")), root=Path(payload.get("root", ".")),
                       total_steps=int(payload.get("total_steps") or 0),
                       family=str((payload.get("config") or {}).get("family") or ""))
