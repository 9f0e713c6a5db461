"""How a job handler says what went wrong; the runner turns these into job states."""
from __future__ import annotations

from studio.engine.errors import StudioError


class JobFailed(StudioError):
    """A permanent failure: fail at once with this message, no retry."""


class TransientError(StudioError):
    """A refused or dropped connection, a timeout, HTTP 429/5xx: retried with back-off."""


class JobCanceled(StudioError):
    """The user canceled the job while it ran."""
