"""What the CLI prints cannot be steered by a name or a file: control characters come out escaped
(no colours, no cleared screens, no forged lines), secrets redacted, and JSON stays JSON."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from studio.cli.output import UploadNotes, escaped, print_json, shown
from studio.engine.datasets.caption_text import MAX_CAPTION_BYTES
from tests.cli.conftest import Cli, Result, make_image

FAKE_KEY = "-".join(("sk", "or", "v1", "aa11bb22cc33dd44"))  # made here: no key-shaped text is committed

HOSTILE = "Eve\n\x1b[2Jforged: ok\r\u202eevil\u009b31m"


def _assert_safe(result: Result) -> None:
    for text in (result.out, result.err):
        assert not any(c in text for c in "\x1b\r\u202e\u009b"), text
        assert not any(line.startswith("forged") for line in text.splitlines()), text
        assert "Traceback" not in text


@pytest.mark.parametrize(("raw", "expected"), [
    ("plain name, café 🙂", "plain name, café 🙂"),
    ("a\nb\tc\rd", "a\\nb\\tc\\rd"),
    ("\x1b[31mred\x00\x7f", "\\x1b[31mred\\x00\\x7f"),
    ("\u202eevil\u2066\u2028x\u009b", "\\u202eevil\\u2066\\u2028x\\x9b"),
])
def test_control_characters_are_printed_escaped(raw: str, expected: str) -> None:
    assert escaped(raw) == expected == shown(raw)


def test_shown_redacts_and_print_json_stays_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert shown(f"HTTP 401: bad key {FAKE_KEY}") == "HTTP 401: bad key ***"
    print_json({"name": HOSTILE, "error": "Authorization: Bearer abc123def456"})
    out = capsys.readouterr().out
    assert json.loads(out) == {"name": HOSTILE, "error": "Authorization: Bearer ***"}
    assert not any(c in out for c in "\x1b\r\u202e\u009b")


def test_hostile_names_are_escaped_in_every_listing(cli: Cli) -> None:
    created = cli("influencer", "create", HOSTILE)
    assert created.code == 0, created.err
    _assert_safe(created)
    made = cli("dataset", "create", "--influencer", HOSTILE, HOSTILE)
    assert made.code == 0, made.err
    for args in (("influencer", "list"), ("influencer", "show", HOSTILE), ("dataset", "list"),
                 ("influencer", "delete", HOSTILE), ("trash", "list"), ("trash", "restore", "")):
        if args[1] == "restore":
            args = ("trash", "restore", cli("trash", "list", "--json").json()[0]["id"])
        result = cli(*args)
        assert result.code == 0, (args, result.err)
        _assert_safe(result)
        assert "\\x1b[2Jforged" in result.out + result.err, args  # shown, escaped, not dropped
    listed = cli("influencer", "list", "--json")
    [name] = [i["name"] for i in listed.json()]  # scripts get the name as stored, controls and all
    assert "\x1b[2Jforged" in name and "\u202eevil\u009b" in name and "\x1b" not in listed.out


def test_import_report_escapes_file_names_and_notes_captions(cli: Cli, tmp_path: Path) -> None:
    assert cli("influencer", "create", "Mia").code == 0
    assert cli("dataset", "create", "--influencer", "Mia", "Set").code == 0
    drop = tmp_path / "drop"
    make_image(drop / "fine.png")
    (drop / "fine.txt").write_bytes(b"mia\x00, red\x1b[2J dress")
    make_image(drop / "long.png", size=(300, 200))
    (drop / "long.txt").write_bytes(b"x" * (MAX_CAPTION_BYTES + 10))
    (drop / "bad\x1b[2J\nforged.png").write_bytes(b"not an image")
    result = cli("dataset", "import", "--influencer", "Mia", "--dataset", "Set", str(drop))
    assert result.code == 0, result.err
    _assert_safe(result)
    lines = result.out.splitlines()
    assert lines[0] == "imported 2, duplicate 0, refused 1"
    assert any(line.startswith("refused ") and "bad\\x1b[2J\\nforged.png" in line for line in lines)
    assert any(line.startswith("note ") and "fine.png: caption cleaned: 2 control characters "
               "(ESC, NUL) removed" in line for line in lines)
    assert any(line.startswith("note ") and "long.png: caption left out" in line for line in lines)
    tags = cli("dataset", "captions", "--influencer", "Mia", "--dataset", "Set", "tags")
    assert "red[2J dress" in tags.out and "\x1b" not in tags.out


def test_upload_progress_is_a_line_per_tenth_on_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    notes = UploadNotes()
    for fraction in (0.0, 0.01, 0.35, 0.36, 1.0):
        notes("Uploading walk.mp4 to the server", fraction)
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.splitlines() == ["Uploading walk.mp4 to the server: 0%",
                                         "Uploading walk.mp4 to the server: 30%",
                                         "Uploading walk.mp4 to the server: 100%"]
