"""Secrets (API keys, server passwords): the system keyring first, never the TOML, database or logs.

Where no usable keyring backend exists (a headless Linux box, CI), secrets go to a file in the
config folder with mode 0600, which the app, the workers and the command line all read; the
doctor and the Settings page say plainly that it is a file. ``INFLUENCERAI_SECRET_<NAME>``
overrides both, for servers.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

import keyring
import keyring.errors
from keyring.backend import KeyringBackend

from studio.engine.config import DATA_DIR_ENV, Paths, resolve_paths
from studio.engine.errors import SecretStoreError, StudioError
from studio.engine.fsutil import atomic_write_text
from studio.engine.logs import register_secret

KNOWN_SECRETS = ("openrouter", "server.postgres", "server.redis", "server.s3")
SECRETS_FILE = "secrets.json"
ENV_PREFIX = "INFLUENCERAI_SECRET_"
_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")


@dataclass(frozen=True, slots=True)
class SecretBackendInfo:
    kind: str  # "keyring" or "file"
    description: str


def env_name(name: str) -> str:
    return ENV_PREFIX + re.sub(r"[^A-Z0-9]", "_", name.upper())


class SecretStore:
    def __init__(self, config_dir: Path, *, default_profile: bool = False) -> None:
        self._file = config_dir / SECRETS_FILE
        digest = hashlib.sha1(str(config_dir).encode()).hexdigest()[:10]
        # Each profile (data folder) keeps its own keyring entries.
        self._service = "influencerai-studio" if default_profile else f"influencerai-studio@{digest}"
        self._backend = _usable_keyring()

    def info(self) -> SecretBackendInfo:
        if self._backend is not None:
            name = type(self._backend).__module__ + "." + type(self._backend).__name__
            return SecretBackendInfo("keyring", f"system keyring ({name})")
        return SecretBackendInfo(
            "file", f"file {self._file} (mode 0600): no system keyring backend is usable here")

    def get(self, name: str) -> str | None:
        _check_name(name)
        value = os.environ.get(env_name(name))
        if value is None:
            backend = self._backend
            value = self._keyring_get(backend, name) if backend is not None else self._read_file().get(name)
        if value:
            register_secret(value)
        return value or None

    def set(self, name: str, value: str) -> None:
        _check_name(name)
        if not value:
            raise SecretStoreError("A secret cannot be empty; use 'delete' to remove it.")
        register_secret(value)
        if self._backend is not None:
            try:
                self._backend.set_password(self._service, name, value)
                return
            except keyring.errors.KeyringError as exc:
                raise SecretStoreError(f"The system keyring refused to store '{name}': {exc}") from exc
        data = self._read_file()
        data[name] = value
        self._write_file(data)

    def delete(self, name: str) -> None:
        _check_name(name)
        if self._backend is not None:
            try:
                self._backend.delete_password(self._service, name)
            except keyring.errors.PasswordDeleteError:
                pass
            return
        data = self._read_file()
        if data.pop(name, None) is not None:
            self._write_file(data)

    def names(self) -> list[str]:
        """Known secret names that have a value (from any source)."""
        return [n for n in KNOWN_SECRETS if self.get(n)]

    def _keyring_get(self, backend: KeyringBackend, name: str) -> str | None:
        try:
            return backend.get_password(self._service, name)
        except keyring.errors.KeyringError as exc:
            raise SecretStoreError(f"The system keyring could not be read: {exc}") from exc

    def _read_file(self) -> dict[str, str]:
        if not self._file.exists():
            return {}
        try:
            data = json.loads(self._file.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise SecretStoreError(f"The secrets file {self._file} cannot be read: {exc}") from exc
        if not isinstance(data, dict):
            raise SecretStoreError(f"The secrets file {self._file} is not a JSON object.")
        return {str(k): str(v) for k, v in data.items()}

    def _write_file(self, data: dict[str, str]) -> None:
        self._file.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(self._file, json.dumps(data, indent=1), mode=0o600)


def secret_store_for(paths: Paths) -> SecretStore:
    """The store the app uses for this data folder: the default profile's keyring entries have
    their own service name, so a worker started with an explicit --data-dir still finds them."""
    try:
        default = not os.environ.get(DATA_DIR_ENV) and resolve_paths(None) == paths
    except StudioError:  # an unreadable default settings file: this is not that profile anyway
        default = False
    return SecretStore(paths.config_dir, default_profile=default)


def _check_name(name: str) -> None:
    if not _NAME.match(name):
        raise SecretStoreError(
            f"'{name}' is not a valid secret name (lower-case letters, digits, '.', '-', '_').")


def _usable_keyring() -> KeyringBackend | None:
    """The system keyring when a real backend is there; None for the fail/null/chainer-less case."""
    try:
        backend = keyring.get_keyring()
    except Exception:  # a broken keyring configuration must not stop the studio
        return None
    module = type(backend).__module__
    if module.startswith(("keyring.backends.fail", "keyring.backends.null")):
        return None
    if module.startswith("keyring.backends.chainer") and not getattr(backend, "backends", None):
        return None
    if "plaintext" in type(backend).__name__.lower():  # keyrings.alt's plain file is no keyring
        return None
    try:
        backend.get_password("influencerai-studio", "__probe__")
    except Exception:
        return None  # e.g. Secret Service without a D-Bus session: fall back to the file
    return backend
