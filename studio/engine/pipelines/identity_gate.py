"""A post's picture must look like her: the likeness check on the pipeline's image step.

With ``pipeline.min_identity`` above 0, each picture the step makes is judged by the identity
score its generation job recorded (``comfyui/identity.py``); below the minimum, the step makes
another with a new seed, up to ``pipeline.identity_retries`` pictures in all. If none passes, the
post stops with one line naming the best score and the one needed; every picture stays in the
gallery and the best one is kept on the step. Pictures that cannot be judged (she has no
reference faces, the face model is missing) stop it at once: another seed would not help.
"""
from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass
from typing import Any

from studio.engine.comfyui.identity import NO_FACE, NO_REFERENCES, identity_of, score_of
from studio.engine.config import PipelineSettings
from studio.engine.db.database import Database
from studio.engine.db.models import Asset

NO_PICTURE = "no picture"


@dataclass(frozen=True, slots=True)
class Gate:
    minimum: float  # 0: off
    tries: int

    @property
    def on(self) -> bool:
        return self.minimum > 0


@dataclass(frozen=True, slots=True)
class Try:
    """One picture job's verdict: its best-scored still."""

    job_id: str
    score: float | None
    asset_id: str | None
    note: str = ""  # why there is no score

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def gate_of(settings: PipelineSettings) -> Gate:
    return Gate(minimum=float(settings.min_identity), tries=max(1, int(settings.identity_retries)))


def judge(db: Database, job_id: uuid.UUID, asset_ids: list[uuid.UUID]) -> Try:
    """The job's stills as their generation scored them; the best one speaks for the job."""
    with db.session() as session:
        metas = [(a.id, a.meta) for a in (session.get(Asset, i) for i in asset_ids)
                 if a is not None and a.kind == "image"]
    if not metas:
        return Try(job_id=str(job_id), score=None, asset_id=None, note=NO_PICTURE)
    scored = [(score_of(meta), asset_id, meta) for asset_id, meta in metas]
    score, asset_id, meta = max(scored, key=lambda s: -1.0 if s[0] is None else s[0])
    return Try(job_id=str(job_id), score=score, asset_id=str(asset_id),
               note="" if score is not None else str(identity_of(meta).get("note") or "not scored"))


def passes(gate: Gate, verdict: Try) -> bool:
    return not gate.on or (verdict.score is not None and verdict.score >= gate.minimum)


def cannot_judge(verdict: Try) -> bool:
    """No other seed would give a score: no references, no face model (a missing face is worth
    another try)."""
    return verdict.score is None and verdict.note not in (NO_FACE, NO_PICTURE)


def best(tries: list[dict[str, Any]]) -> dict[str, Any]:
    return max(tries, key=lambda t: -1.0 if t.get("score") is None else float(t["score"]))


def refusal(name: str, gate: Gate, verdict: Try) -> str:
    """Why the likeness cannot be checked at all, in one line."""
    if verdict.note == NO_REFERENCES:
        return (f"The picture's likeness could not be checked ({name} has no reference faces yet); "
                f"set her references or pipeline.min_identity to 0 (it is {gate.minimum:g}).")
    return (f"The picture's likeness could not be checked: {verdict.note.rstrip('.')}. "
            f"Set pipeline.min_identity to 0 to make posts without the check (it is {gate.minimum:g}).")


def gave_up(name: str, gate: Gate, tries: list[dict[str, Any]]) -> str:
    top = best(tries).get("score")
    shown = f"best {top:.2f}" if top is not None else "no face in any"
    count = f"{len(tries)} tr{'ies' if len(tries) != 1 else 'y'}"
    return f"The picture did not look like {name} after {count} ({shown}, needed {gate.minimum:.2f})."
