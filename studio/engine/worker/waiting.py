"""Why a waiting job waits, in one sentence for the window.

A pending job waits either for a worker that serves its queue (none does, or the one that does
has stopped answering) or for the jobs ahead of it. A running job that waits (for the GPU, for
ComfyUI to start) says so itself in its stage and message, so nothing is read for it here.
The UI asks this on a background lane when the job hub reports a pending job.
"""
from __future__ import annotations

import uuid

from studio.engine.core import Studio
from studio.engine.db.models import Job
from studio.engine.jobs.status import JobStatus
from studio.engine.worker.serving import who_serves
from studio.engine.worker.watch import jobs_ahead, why_not_served


def waiting_reason(studio: Studio, job_id: uuid.UUID) -> str:
    """Empty when the job is not waiting in its queue (running, finished or gone)."""
    with studio.db.session() as session:
        job = session.get(Job, job_id)
        if job is None or job.status != JobStatus.PENDING:
            return ""
        session.expunge(job)
    serving = who_serves(studio, job.queue, job.workspace_id)
    if not serving.served:
        reason = why_not_served(serving)
        return f"{reason[0].upper()}{reason[1:]}. The Queue page shows the workers."
    ahead = jobs_ahead(studio, job)
    names = ", ".join(w.label for w in serving.fresh)
    if ahead:
        return f"Waiting in the '{job.queue}' queue: {ahead} job(s) ahead, on {names}."
    return f"Waiting for the worker on {names} to take it."
