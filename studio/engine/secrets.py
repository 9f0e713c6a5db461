"""Secrets (API keys, server passwords): the system keyring first, never the TOML, database or logs.

Where no usable keyring backend exists (a headless Linux box, CI), secrets go to a file in the
config folder with mode 0600, which the app, the workers and the command line all read; the
doctor and the Settings page say plainly that it is a file. ``INFLUENCERAI_SECRET_<NAME>``
overrides both, for servers.
"""
from __future__ import annotations

import hashlib
import json
import logging
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
from studio.engine.redact import ENV_PREFIX, register_secret, register_source
from studio.engine.secret_names import KNOWN_SECRETS as KNOWN_SECRETS

SECRETS_FILE = "secrets.json"
_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")  # a tab may be part of a password
log = logging.getLogger("studio.secrets")
_said_empty: set[str] = set()


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
        register_source(self._stored_values)  # so text naming them is redacted in any process

    def info(self) -> SecretBackendInfo:
        if self._backend is not None:
            name = type(self._backend).__module__ + "." + type(self._backend).__name__
            return SecretBackendInfo("keyring", f"system keyring ({name})")
        return SecretBackendInfo(
            "file", f"file {self._file} (mode 0600): no system keyring backend is usable here")

    def get(self, name: str) -> str | None:
        _check_name(name)
        value = from_environment(name)
        if value is None:
            backend = self._backend
            value = self._keyring_get(backend, name) if backend is not None else self._read_file().get(name)
        if value:
            register_secret(value)
        return value or None

    def set(self, name: str, value: str) -> None:
        _check_name(name)
        problem = value_problem(value)
        if problem:
            raise SecretStoreError(f"'{name}' was not stored: a secret {problem}.")
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

    def _stored_values(self) -> list[str | None]:
        """The stored values of the known secrets, environment aside (the redactor reads that)."""
        if self._backend is not None:
            backend = self._backend
            return [self._keyring_get(backend, n) for n in KNOWN_SECRETS]
        data = self._read_file()
        return [data.get(n) for n in KNOWN_SECRETS]

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


def from_environment(name: str) -> str | None:
    """``INFLUENCERAI_SECRET_<NAME>``; empty means "not set", so the stored value still counts."""
    variable = env_name(name)
    value = os.environ.get(variable)
    if value is None:
        return None
    if not value.strip():
        if variable not in _said_empty:
            _said_empty.add(variable)
            log.warning("%s is set but empty; using the stored '%s' instead", variable, name)
        return None
    value = one_line(value)
    problem = value_problem(value)
    if problem:
        raise SecretStoreError(f"{variable} cannot be used: a secret {problem}.")
    return value


def env_is_empty(name: str) -> bool:
    """The variable is there but empty: ignored, which `secret list` says."""
    value = os.environ.get(env_name(name))
    return value is not None and not value.strip()


def value_problem(value: str) -> str | None:
    """Why ``value`` cannot be a secret ("must be one line…"), or None. A second line would be
    cut somewhere or sent as part of an HTTP header, so it is refused whole."""
    if not value:
        return "cannot be empty (use 'delete' to remove one)"
    lines = len(value.splitlines())
    if lines > 1 or "\n" in value or "\r" in value:
        return f"must be one line, and this value has {max(lines, 2)} (nothing was cut)"
    if _CONTROL.search(value):
        return "cannot contain control characters"
    return None


def one_line(value: str) -> str:
    """One trailing line break is how files and `echo` end a line, not part of the secret."""
    for ending in ("\r\n", "\n"):
        if value.endswith(ending):
            return value[: -len(ending)]
    return value


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
