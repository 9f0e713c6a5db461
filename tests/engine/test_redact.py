"""Secrets are taken out of text and JSON: known ones (registered, stored, environment) and
anything shaped like one (keys, bearer tokens, Authorization values, URL passwords)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from studio.engine.redact import REDACTED, redact, redact_value, register_secret, register_source
from studio.engine.secrets import SecretStore

OPENROUTER_KEY = "-".join(("sk", "or", "v1", "0c5d8e2f4a6b8c0d" * 4))  # made here: no key-shaped text is committed


@pytest.mark.parametrize(("text", "secret"), [
    (f"401: Incorrect API key provided: {OPENROUTER_KEY}.", OPENROUTER_KEY),
    ("invalid key sk-proj-AbCdEf0123456789xyz", "sk-proj-AbCdEf0123456789xyz"),
    ("request had Bearer eyAbc123.def456.ghi789 in it", "eyAbc123.def456.ghi789"),
    ('headers: {"Authorization": "Basic dXNlcjpodW50ZXIy"}', "dXNlcjpodW50ZXIy"),
    ("Authorization: Token 5f2c9e1a7b", "5f2c9e1a7b"),
    ("could not connect to postgresql://studio:Tr0ub4dor&3@db.example:5432/team", "Tr0ub4dor&3"),
    ("redis://:s3cret-redis-pw@cache:6379/0 refused", "s3cret-redis-pw"),
    ("x-api-key: 9a8b7c6d5e4f3a2b", "9a8b7c6d5e4f3a2b"),
    ("aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
    ("SecretAccessKey: wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
    ("access key AKIAIOSFODNN7EXAMPLE is not valid", "AKIAIOSFODNN7EXAMPLE"),
    ("token hf_abcdefghijklmnopqrstuvwxyz0123 expired", "hf_abcdefghijklmnopqrstuvwxyz0123"),
])
def test_secret_shaped_values_are_taken_out(text: str, secret: str) -> None:
    cleaned = redact(text)
    assert secret not in cleaned and REDACTED in cleaned


@pytest.mark.parametrize("text", [
    "HTTP 401: the bearer token is missing",
    "ComfyUI does not answer at http://comfyui.local/prompt",
    "risk-free, task-based sha256 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    "password authentication failed for user \"studio\"",
    "12 of 40: datasets/mia/IMG_0001.png",
])
def test_ordinary_text_is_left_alone(text: str) -> None:
    assert redact(text) == text


def test_a_registered_secret_goes_everywhere_it_appears() -> None:
    register_secret("plain-key-6f1c2e9a7b")
    assert redact("echo: plain-key-6f1c2e9a7b / plain-key-6f1c2e9a7b") == "echo: *** / ***"


def test_a_short_secret_is_only_taken_out_where_it_stands_alone() -> None:
    register_secret("Qx7pw")
    assert redact("pw=Qx7pw; mangled Qx7pwed stays") == "pw=***; mangled Qx7pwed stays"


def test_environment_secrets_are_known_without_being_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INFLUENCERAI_SECRET_SERVER_S3", "minio-env-value-4411")
    assert redact("S3 said: bad key minio-env-value-4411") == "S3 said: bad key ***"


def test_stored_secrets_are_known_in_a_process_that_never_read_them(tmp_path: Path) -> None:
    """Another process stored it (the file here); this one only opens the store."""
    (tmp_path / "secrets.json").write_text(json.dumps({"openrouter": "stored-elsewhere-93ab1c"}))
    SecretStore(tmp_path)
    assert redact("the server echoed stored-elsewhere-93ab1c") == "the server echoed ***"


def test_an_unreadable_source_does_not_stop_redaction() -> None:
    def broken() -> list[str | None]:
        raise OSError("keyring locked")

    register_source(broken)
    assert redact("Bearer abcdef0123456789") == "Bearer ***"


def test_json_values_are_walked_and_secret_keys_lose_their_values() -> None:
    value = {"error": f"bad key {OPENROUTER_KEY}", "headers": {"Authorization": "anything at all"},
             "api_key": "x", "items": [{"url": "https://u:pw-123456@h/x"}], "count": 3, "ok": None}
    cleaned = redact_value(value)
    assert OPENROUTER_KEY not in json.dumps(cleaned)
    assert cleaned["headers"]["Authorization"] == REDACTED and cleaned["api_key"] == REDACTED
    assert cleaned["items"][0]["url"] == "https://u:***@h/x"
    assert (cleaned["count"], cleaned["ok"]) == (3, None)
    kept = redact_value({"comfyui_url": "https://u:pw-123456@h/x"}, url_passwords=False)
    assert kept["comfyui_url"] == "https://u:pw-123456@h/x"  # an address the job must reach
