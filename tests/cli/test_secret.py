"""secret set|delete|list: stdin in, never echoed, kept only in the 0600 file (no keyring here)."""
from __future__ import annotations

import io
import json
import re
import stat
from pathlib import Path

import pytest

from studio.engine.core import Studio
from tests.cli.conftest import Cli, one_error_line
from tests.conftest import run_cli

VALUE = "test-openrouter-key-7f3a9c"


def _all_bytes(folder: Path) -> bytes:
    return b"".join(p.read_bytes() for p in folder.rglob("*") if p.is_file())


def test_set_through_stdin_in_a_real_process(studio: Studio, data_dir: Path) -> None:
    done = run_cli(data_dir, "secret", "set", "openrouter", input=VALUE + "\n")
    assert done.returncode == 0, done.stderr
    assert VALUE not in done.stdout and VALUE not in done.stderr
    assert "file" in done.stdout  # says plainly where it went
    run_cli(data_dir, "workspace", "list")  # a command that writes the database and the logs
    listed = run_cli(data_dir, "secret", "list", "--json")
    assert VALUE not in listed.stdout
    rows = {r["name"]: r["set"] for r in json.loads(listed.stdout)["secrets"]}
    assert rows["openrouter"] is True and rows["server.redis"] is False

    secrets_file = data_dir / "secrets.json"
    assert stat.S_IMODE(secrets_file.stat().st_mode) == 0o600
    assert VALUE.encode() in secrets_file.read_bytes()
    assert VALUE not in (data_dir / "settings.toml").read_text()
    db_files = [p for p in data_dir.iterdir() if p.name.startswith("studio.sqlite3")]
    assert db_files and all(VALUE.encode() not in p.read_bytes() for p in db_files)
    assert VALUE.encode() not in _all_bytes(data_dir / "logs")
    assert Studio.open(data_dir).secrets.get("openrouter") == VALUE


def test_set_delete_list_in_process(cli: Cli, studio: Studio, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("pg-password\n"))
    result = cli("secret", "set", "server.postgres")
    assert result.code == 0 and "pg-password" not in result.out + result.err
    assert studio.secrets.get("server.postgres") == "pg-password"
    assert re.search(r"^server\.postgres +set$", cli("secret", "list").out, re.MULTILINE)
    assert cli("secret", "delete", "server.postgres").code == 0
    assert studio.secrets.get("server.postgres") is None
    assert "kept in: file" in cli("secret", "list").out


def test_environment_override_is_shown(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INFLUENCERAI_SECRET_OPENROUTER", "from-env-123")
    out = cli("secret", "list").out
    assert "INFLUENCERAI_SECRET_OPENROUTER" in out and "from-env-123" not in out


def test_errors(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    empty = cli("secret", "set", "openrouter")
    assert empty.code == 2 and "No value" in one_error_line(empty.err)
    unknown = cli("secret", "set", "openruter")
    assert unknown.code == 2 and "Unknown secret" in one_error_line(unknown.err)


def test_a_value_of_several_lines_is_refused_whole(cli: Cli, studio: Studio, data_dir: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("sk-or-first-half\nsecond-half\n"))
    refused = cli("secret", "set", "openrouter")
    assert refused.code == 2 and "must be one line" in one_error_line(refused.err)
    assert "first-half" not in refused.err and studio.secrets.get("openrouter") is None
    done = run_cli(data_dir, "secret", "set", "server.redis", input="line-a\r\nline-b")
    assert done.returncode == 2 and "must be one line" in one_error_line(done.stderr)
    assert studio.secrets.get("server.redis") is None


def test_an_empty_environment_variable_is_ignored_and_said(cli: Cli, studio: Studio,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    studio.secrets.set("openrouter", VALUE)
    monkeypatch.setenv("INFLUENCERAI_SECRET_OPENROUTER", "")
    listed = cli("secret", "list")
    assert re.search(r"^openrouter +set \(INFLUENCERAI_SECRET_OPENROUTER is empty, so it is ignored\)$",
                     listed.out, re.MULTILINE)
    assert cli("secret", "list", "--json").json()["secrets"][0] == {
        "name": "openrouter", "set": True, "from_environment": False, "environment_empty": True}
