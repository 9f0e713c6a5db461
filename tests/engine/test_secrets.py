from __future__ import annotations

import json
import logging
import stat
from pathlib import Path

import keyring
import pytest
from keyring.backend import KeyringBackend

from studio.engine.core import Studio
from studio.engine.errors import SecretStoreError
from studio.engine.logs import setup_logging
from studio.engine.secrets import SecretStore, env_is_empty, env_name

SECRET = "sk-test-0123456789abcdef"


def test_without_keyring_secrets_go_to_a_private_file(tmp_path: Path) -> None:
    store = SecretStore(tmp_path)
    assert store.info().kind == "file"
    assert "not" in store.info().description or "no system keyring" in store.info().description
    store.set("openrouter", SECRET)
    path = tmp_path / "secrets.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert SecretStore(tmp_path).get("openrouter") == SECRET  # another process reads it
    store.delete("openrouter")
    assert store.get("openrouter") is None


def test_environment_overrides_the_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = SecretStore(tmp_path)
    store.set("server.postgres", "from-file")
    monkeypatch.setenv(env_name("server.postgres"), "from-env")
    assert env_name("server.postgres") == "INFLUENCERAI_SECRET_SERVER_POSTGRES"
    assert store.get("server.postgres") == "from-env"


def test_bad_names_and_empty_values_are_refused(tmp_path: Path) -> None:
    store = SecretStore(tmp_path)
    with pytest.raises(SecretStoreError):
        store.set("../etc/passwd", "x")
    with pytest.raises(SecretStoreError):
        store.set("openrouter", "")


def test_corrupt_secrets_file_is_a_readable_error(tmp_path: Path) -> None:
    (tmp_path / "secrets.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(SecretStoreError, match="cannot be read"):
        SecretStore(tmp_path).get("openrouter")


class MemoryKeyring(KeyringBackend):
    priority = 10  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.values: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.values.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.values[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.values.pop((service, username), None)


def test_a_usable_keyring_is_preferred_and_nothing_lands_on_disk(tmp_path: Path) -> None:
    backend = MemoryKeyring()
    previous = keyring.get_keyring()
    keyring.set_keyring(backend)
    try:
        store = SecretStore(tmp_path)
        assert store.info().kind == "keyring"
        store.set("openrouter", SECRET)
        assert SECRET in backend.values.values()
        assert not (tmp_path / "secrets.json").exists()
    finally:
        keyring.set_keyring(previous)


def test_secrets_never_reach_settings_database_or_logs(studio: Studio) -> None:
    log_file = setup_logging(studio.paths.logs_dir, process="test")
    studio.secrets.set("openrouter", SECRET)
    value = studio.secrets.get("openrouter")
    logging.getLogger("studio.test").warning("calling with key %s", value)
    studio.workspace()  # creates the database
    studio.save_settings()
    for handler in logging.getLogger().handlers:
        handler.flush()
    assert SECRET not in studio.paths.settings_file.read_text()
    assert SECRET.encode() not in studio.paths.database_file.read_bytes()
    lines = [json.loads(line) for line in log_file.read_text().splitlines()]
    assert any(line["message"] == "calling with key ***" for line in lines)
    assert SECRET not in log_file.read_text()


def test_an_empty_environment_variable_does_not_hide_the_stored_secret(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    store = SecretStore(tmp_path)
    store.set("openrouter", SECRET)
    monkeypatch.setenv(env_name("openrouter"), "")
    monkeypatch.setattr("studio.engine.secrets._said_empty", set())  # as in a fresh process
    with caplog.at_level(logging.WARNING, logger="studio.secrets"):
        assert store.get("openrouter") == SECRET
        assert store.get("openrouter") == SECRET
    said = [r.getMessage() for r in caplog.records if "INFLUENCERAI_SECRET_OPENROUTER" in r.getMessage()]
    assert len(said) == 1 and "empty" in said[0]  # said once per process, not on every read
    monkeypatch.setenv(env_name("openrouter"), "  ")
    assert store.get("openrouter") == SECRET
    assert env_is_empty("openrouter")


def test_a_secret_of_several_lines_is_refused_not_cut(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    store = SecretStore(tmp_path)
    with pytest.raises(SecretStoreError, match="must be one line") as refused:
        store.set("openrouter", "sk-or-first-line\nsecond-line")
    assert "\n" not in str(refused.value)
    assert store.get("openrouter") is None and not (tmp_path / "secrets.json").exists()
    with pytest.raises(SecretStoreError, match="control characters"):
        store.set("openrouter", "key\x00with-nul")

    monkeypatch.setenv(env_name("server.redis"), "pw-line-one\r\npw-line-two")
    with pytest.raises(SecretStoreError, match="INFLUENCERAI_SECRET_SERVER_REDIS cannot be used"):
        store.get("server.redis")
    monkeypatch.setenv(env_name("server.redis"), "redis-pw-from-a-file\n")  # `$(cat file)`-style
    assert store.get("server.redis") == "redis-pw-from-a-file"
