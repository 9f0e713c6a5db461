"""The studio as a script sees it: one object bundling settings, secrets, records and queues.

    studio = Studio.open(data_dir="~/my-profile")
    ws = studio.workspace("Main")
    job = studio.jobs.submit(ws.id, "make-thumbnails", ThumbnailPayload(files=(...,)))
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from studio.engine.config import DATA_DIR_ENV, Paths, Settings, load_settings, resolve_paths, save_settings
from studio.engine.db.changes import Change, Entity
from studio.engine.db.database import Database, sqlite_url
from studio.engine.db.models import Workspace
from studio.engine.db.repositories import Workspaces
from studio.engine.errors import NotFound
from studio.engine.fsutil import FileStamp
from studio.engine.jobs.queueset import QueueSet
from studio.engine.jobs.service import JobService
from studio.engine.secrets import SecretStore
from studio.engine.urls import with_password

DEFAULT_WORKSPACE = "My studio"


@dataclass(frozen=True, slots=True)
class SavedSettings:
    settings: Settings
    stamp: FileStamp | None  # the file as read
    own: FileStamp | None  # this process's last save or read when it was read


class Studio:
    def __init__(self, paths: Paths, settings: Settings, *, explicit_profile: bool) -> None:
        self.paths = paths
        self.settings = settings
        self._settings_stamp = FileStamp.of(paths.settings_file)  # as last saved or read here
        self.secrets = SecretStore(paths.config_dir, default_profile=not explicit_profile)

    @classmethod
    def open(cls, data_dir: str | os.PathLike[str] | None = None) -> Studio:
        explicit = bool(data_dir or os.environ.get(DATA_DIR_ENV))
        paths = resolve_paths(data_dir)
        paths.ensure()
        settings = load_settings(paths.settings_file)
        return cls(paths, settings, explicit_profile=explicit)

    @property
    def database_url(self) -> str:
        url = self.settings.database.url
        if url.startswith("postgresql"):  # team mode: the password lives in the keyring
            return with_password(url, self.secrets.get("server.postgres"))
        return url or sqlite_url(self.paths.database_file)

    @cached_property
    def db(self) -> Database:
        """Opened on first use; migrations run then."""
        return Database.open(self.database_url, lock_dir=self.paths.run_dir)

    @cached_property
    def queues(self) -> QueueSet:
        return QueueSet(self.settings, self.paths, redis_password=self._redis_password())

    def _redis_password(self) -> str | None:
        return self.secrets.get("server.redis") if self.settings.queue.backend == "redis" else None

    @cached_property
    def jobs(self) -> JobService:
        prepare = None
        if self.settings.database.url and self.settings.server.s3_endpoint:  # team mode only
            from studio.engine.server.assets import submit_hook
            prepare = submit_hook(self.settings, self.paths, self.secrets)
        return JobService(self.db, self.queues, prepare)

    def save_settings(self) -> None:
        save_settings(self.settings, self.paths.settings_file)
        self._settings_stamp = FileStamp.of(self.paths.settings_file)
        if "db" in self.__dict__:  # this process's views hear of it now, others by the file
            self.db.changes.publish([Change(Entity.SETTINGS, None)])

    def reload_settings(self) -> None:
        self._settings_stamp = FileStamp.of(self.paths.settings_file)
        self.settings = load_settings(self.paths.settings_file)

    def settings_saved_elsewhere(self) -> SavedSettings | None:
        """Settings another process saved since this one last saved or read them, read but not
        applied (a reader thread calls this; ``adopt_settings`` applies them where they are used)."""
        own = self._settings_stamp
        stamp = FileStamp.of(self.paths.settings_file)
        if stamp == own:
            return None
        return SavedSettings(load_settings(self.paths.settings_file), stamp, own)

    def adopt_settings(self, saved: SavedSettings) -> bool:
        """Applies settings read by ``settings_saved_elsewhere`` unless this process saved its own
        since (they would be older than what it holds). No file is read here: the UI thread calls it."""
        if self._settings_stamp != saved.own:
            return False
        self.settings, self._settings_stamp = saved.settings, saved.stamp
        return True

    # Workspaces -----------------------------------------------------------------------------

    def workspaces(self) -> list[Workspace]:
        with self.db.session() as session:
            return list(Workspaces(session).list())

    def workspace(self, name: str | None = None, *, create: bool = False) -> Workspace:
        """By name; else the current one; else the only one; else a new default workspace."""
        with self.db.session() as session:
            repo = Workspaces(session)
            if name:
                try:
                    return repo.by_name(name)
                except NotFound:
                    if not create:
                        raise
                    return repo.create(name)
            current = self.settings.general.current_workspace
            if current:
                try:
                    return repo.by_name(current)
                except NotFound:
                    pass
            existing = repo.list()
            if existing:
                return existing[0]
            return repo.create(DEFAULT_WORKSPACE)

    def use_workspace(self, name: str) -> Workspace:
        workspace = self.workspace(name)
        self.settings.general.current_workspace = workspace.name
        self.save_settings()
        return workspace

    def asset_path(self, key: str) -> Path:
        return self.paths.assets_dir / key

    def close(self) -> None:
        if "queues" in self.__dict__:
            self.queues.close()
        if "db" in self.__dict__:
            self.db.dispose()
