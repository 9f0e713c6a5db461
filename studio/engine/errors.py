"""Typed errors of the engine. Every one carries a message a user can read as it is."""
from __future__ import annotations


class StudioError(Exception):
    """Base of every error the engine raises on purpose; str() is one readable line."""


class NotFound(StudioError):
    """A record does not exist, or belongs to another workspace."""


class Conflict(StudioError):
    """A write was based on a stale version of a record, or a name is taken."""


class CaptionConflict(Conflict):
    """A caption was changed elsewhere since the editor showed it; ``current`` is the newer one."""

    def __init__(self, message: str, *, current: str) -> None:
        super().__init__(message)
        self.current = current


class InvalidInput(StudioError):
    """The user asked for something that cannot be done as asked."""


class ServiceUnavailable(StudioError):
    """A server or program the studio needs cannot be reached; worth retrying later."""


class SettingsError(StudioError):
    """The settings file or a settings value is not valid."""


class SecretStoreError(StudioError):
    """A secret could not be stored or read."""


class DiskError(StudioError):
    """A folder the studio writes to is read-only, or its disk is full."""


class DatabaseProblem(StudioError):
    """The database is damaged, empty where records should be, or from a newer studio."""
