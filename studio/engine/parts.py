"""What engine functions need of a studio: its database, folders and settings.

A ``Studio`` has them, and so has a job's context, so a job handler passes its context where a
function asks for these parts (no stand-in object to build).
"""
from __future__ import annotations

from typing import Protocol

from studio.engine.config import Paths, Settings
from studio.engine.db.database import Database


class StudioParts(Protocol):
    @property
    def db(self) -> Database: ...

    @property
    def paths(self) -> Paths: ...

    @property
    def settings(self) -> Settings: ...
