"""What can go wrong talking to ComfyUI, as job errors: retried, failed at once, or canceled."""
from __future__ import annotations

from typing import Any

from studio.engine.comfyui.messages import NodeError
from studio.engine.jobs.errors import JobCanceled, JobFailed, TransientError


class ComfyUnavailable(TransientError):
    """ComfyUI cannot be reached, timed out, dropped the connection or answered garbage."""


class ComfyRejected(JobFailed):
    """ComfyUI refused a request for good (an invalid workflow, a missing model or file)."""

    def __init__(self, message: str, *, status: int = 400, error_type: str = "",
                 node_errors: tuple[NodeError, ...] = ()) -> None:
        super().__init__(message)
        self.status = status
        self.error_type = error_type
        self.node_errors = node_errors


class ComfyExecutionError(JobFailed):
    """A node raised while the prompt ran."""

    def __init__(self, message: str, payload: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.payload = payload or {}
        self.node_id = str(self.payload.get("node_id") or "")
        self.exception_type = str(self.payload.get("exception_type") or "")


class ComfyInterrupted(JobCanceled):
    """The prompt was interrupted while running, or deleted from ComfyUI's queue."""
