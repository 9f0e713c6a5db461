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
from typing import TYPE_CHECKING

from studio.engine.config import (
    DATA_DIR_ENV,
    UNSAFE_KEYS,
    Paths,
    Settings,
    SettingsRead,
    load_settings,
    read_settings,
    resolve_paths,
    save_settings,
)
from studio.engine.db.changes import Change, Entity
from studio.engine.db.database import Database, sqlite_url
from studio.engine.db.health import empty_message, empty_over_assets
from studio.engine.db.models import Workspace
from studio.engine.db.repositories import Workspaces
from studio.engine.disk_errors import disk_error
from studio.engine.errors import DatabaseProblem, NotFound, SettingsError
from studio.engine.fsutil import FileStamp
from studio.engine.secrets import SecretStore
from studio.engine.settings_file import keep_broken_copy, shown_lost
from studio.engine.urls import with_password

if TYPE_CHECKING:  # loaded on first use: a read verb needs neither Huey nor the job service
    from studio.engine.jobs.queueset import QueueSet
    from studio.engine.jobs.service import JobService

DEFAULT_WORKSPACE = "My studio"


@dataclass(frozen=True, slots=True)
class SavedSettings:
    settings: Settings
    stamp: FileStamp | None  # the file as read
    own: FileStamp | None  # this process's last save or read when it was read


class Studio:
    def __init__(self, paths: Paths, settings: Settings, *, explicit_profile: bool,
                 settings_read: SettingsRead | None = None) -> None:
        self.paths = paths
        self.settings = settings
        self.settings_read = settings_read or SettingsRead(settings)  # what the file could not give
        self._explicit = explicit_profile  # the data folder was named, not read from the settings
        self._settings_stamp = FileStamp.of(paths.settings_file)  # as last saved or read here
        self.secrets = SecretStore(paths.config_dir, default_profile=not explicit_profile)

    @classmethod
    def open(cls, data_dir: str | os.PathLike[str] | None = None) -> Studio:
        explicit = bool(data_dir or os.environ.get(DATA_DIR_ENV))
        paths = resolve_paths(data_dir)
        try:
            paths.ensure()
        except OSError as exc:  # a read-only data folder, a full disk: one plain line
            problem = disk_error(exc, paths.data_dir)
            if problem is None:
                raise
            raise problem from exc
        read = read_settings(paths.settings_file)
        return cls(paths, read.settings, explicit_profile=explicit, settings_read=read)

    @property
    def database_url(self) -> str:
        url = self.settings.database.url
        if url.startswith("postgresql"):  # team mode: the password lives in the keyring
            return with_password(url, self.secrets.get("server.postgres"))
        return url or sqlite_url(self.paths.database_file)

    @cached_property
    def db(self) -> Database:
        """Opened on first use; migrations run then. Never over a zero-byte file beside assets."""
        self._refuse_unsafe_settings()
        if not self.settings.database.url:
            count = empty_over_assets(self.paths.database_file, self.paths.assets_dir)
            if count is not None:
                raise DatabaseProblem(empty_message(self.paths.database_file, self.paths.assets_dir, count))
        return Database.open(self.database_url, lock_dir=self.paths.run_dir)

    @cached_property
    def queues(self) -> QueueSet:
        from studio.engine.jobs.queueset import QueueSet

        self._refuse_unsafe_settings()
        return QueueSet(self.settings, self.paths, redis_password=self._redis_password())

    def _refuse_unsafe_settings(self) -> None:
        """A damaged settings file that lost where the data is: guessing could open an empty
        studio (or a local one instead of the team's), so data waits until it is repaired."""
        keys = tuple(k for k in UNSAFE_KEYS if not (self._explicit and k == "general.data_dir"))
        unsafe = self.settings_read.lost_among(keys)
        if unsafe:
            raise SettingsError(
                f"The settings file {self.paths.settings_file} is damaged where it says where the "
                f"data is ({', '.join(map(shown_lost, unsafe))}), so the studio will not guess. Repair "
                "it with `influencerai-studio settings set KEY VALUE` (e.g. database.url \"\" for this "
                "machine's own database; the damaged file is kept) or edit it.")

    def _redis_password(self) -> str | None:
        return self.secrets.get("server.redis") if self.settings.queue.backend == "redis" else None

    @cached_property
    def jobs(self) -> JobService:
        from studio.engine.jobs.service import JobService

        prepare = None
        if self.settings.database.url and self.settings.server.s3_endpoint:  # team mode only
            from studio.engine.server.assets import submit_hook
            prepare = submit_hook(self.settings, self.paths, self.secrets)
        return JobService(self.db, self.queues, prepare)

    def save_settings(self) -> Path | None:
        """Saves the settings; a damaged file is copied aside first (that copy is returned)."""
        kept = keep_broken_copy(self.paths.settings_file) if self.settings_read.damaged else None
        save_settings(self.settings, self.paths.settings_file)
        self.settings_read = SettingsRead(self.settings)
        self._settings_stamp = FileStamp.of(self.paths.settings_file)
        if "db" in self.__dict__:  # this process's views hear of it now, others by the file
            self.db.changes.publish([Change(Entity.SETTINGS, None)])
        return kept

    def reload_settings(self) -> None:
        self._settings_stamp = FileStamp.of(self.paths.settings_file)
        self.settings_read = read_settings(self.paths.settings_file)
        self.settings = self.settings_read.settings

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
