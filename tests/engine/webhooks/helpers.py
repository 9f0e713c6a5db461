"""The job types the webhook tests run: one that completes, one that fails."""
from __future__ import annotations

from studio.engine.jobs.context import JobContext
from studio.engine.jobs.errors import JobFailed
from studio.engine.jobs.payloads import Empty
from studio.engine.jobs.registry import job_type

DONE_JOB, FAILING_JOB = "test-webhook-done", "test-webhook-fails"


@job_type(DONE_JOB, queue="general", payload=Empty, result=Empty)
def _done(ctx: JobContext, payload: Empty) -> Empty:
    return Empty()


@job_type(FAILING_JOB, queue="general", payload=Empty, result=Empty)
def _fails(ctx: JobContext, payload: Empty) -> Empty:
    raise JobFailed(f"The checkpoint {ctx.paths.data_dir}/models/x.safetensors is not installed.")
