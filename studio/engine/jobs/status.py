"""A job's status: the one vocabulary the engine, the command line and every view share.

pending → processing → completed | failed | canceled. ``JobStatus`` is a ``StrEnum``, so it is
stored in the job row's text column as it is and compares equal to the stored text.
"""
from __future__ import annotations

from enum import StrEnum


class JobStatus(StrEnum):
    PENDING = "pending"
    PROCESSING = "processing"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELED = "canceled"

    @property
    def active(self) -> bool:
        return self in ACTIVE

    @property
    def finished(self) -> bool:
        return self in FINISHED


STATUSES: tuple[JobStatus, ...] = tuple(JobStatus)
ACTIVE: frozenset[JobStatus] = frozenset({JobStatus.PENDING, JobStatus.PROCESSING})
FINISHED: frozenset[JobStatus] = frozenset({JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELED})
