"""How a job handler says what went wrong; the runner turns these into job states."""
from __future__ import annotations

from studio.engine.errors import StudioError


class JobFailed(StudioError):
    """A permanent failure: fail at once with this message, no retry."""


class TransientError(StudioError):
    """A refused or dropped connection, a timeout, HTTP 429/5xx: retried with back-off, or after
    ``retry_after`` seconds when the service said so (a 429's Retry-After) and that is longer."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class JobCanceled(StudioError):
    """The user canceled the job while it ran."""
