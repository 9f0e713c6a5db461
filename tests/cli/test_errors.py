"""Every error a user can cause is one line on stderr with the right exit code, never a traceback."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from studio.cli.main import main
from studio.engine.core import Studio
from tests.cli.conftest import Cli, one_error_line
from tests.conftest import ROOT, run_cli, studio_command


@pytest.mark.parametrize(("args", "code"), [
    (("bogus",), 2),
    (("workspace",), 2),
    (("workspace", "create"), 2),
    (("influencer", "create", "Nova", "--colour", "red"), 2),
    (("influencer", "show", "Nobody"), 1),
    (("influencer", "list", "--workspace", "Nowhere"), 1),
    (("settings", "set", "ui.theme", "purple"), 2),
    (("jobs", "list", "--limit", "many"), 2),
])
def test_one_line_and_exit_code(cli: Cli, args: tuple[str, ...], code: int) -> None:
    result = cli(*args)
    assert result.code == code, result
    one_error_line(result.err)
    assert result.out == ""


def test_real_process_prints_no_traceback(studio: Studio, data_dir: Path) -> None:
    for args, code in ((("bogus",), 2), (("influencer", "show", "Nobody"), 1),
                       (("settings", "set", "queue.video_workers", "x"), 2)):
        done = run_cli(data_dir, *args)
        assert done.returncode == code
        assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_a_bug_is_still_one_line(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    class Broken:
        @classmethod
        def open(cls, data_dir: object) -> None:
            raise RuntimeError("boom")

    monkeypatch.setattr("studio.engine.core.Studio.open", Broken.open)  # the CLI loads it per verb
    result = cli("influencer", "list")  # (`workspace list` may read the database the quick way)
    assert result.code == 1 and "unexpected RuntimeError: boom" in one_error_line(result.err)


def test_help_and_version_exit_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    assert "--data-dir" in capsys.readouterr().out
    assert main(["workspace", "--help"]) == 0
    assert main(["--version"]) == 0


def test_a_reader_that_stops_early_ends_the_output_quietly(data_dir: Path) -> None:
    """`influencerai-studio settings list | head -1`: the closed pipe is no error."""
    run_cli(data_dir, "workspace", "create", "Main")
    read, write = os.pipe()
    os.close(read)  # the reader is gone before anything is written
    done = subprocess.run(studio_command(data_dir, "settings", "list"), stdout=write,
                          stderr=subprocess.PIPE, text=True, cwd=ROOT, timeout=60, check=False)
    os.close(write)
    assert done.returncode == 0 and done.stderr == ""


def test_spend_into_a_reader_that_stops_early_ends_quietly(data_dir: Path) -> None:
    """`influencerai-studio spend | head -1`, with a real head, and with the reader already gone
    before the output is flushed (the BrokenPipeError that used to come at exit)."""
    run_cli(data_dir, "workspace", "create", "Main")
    spend = subprocess.Popen(studio_command(data_dir, "spend"), stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, cwd=ROOT)
    assert spend.stdout is not None and spend.stderr is not None
    head = subprocess.run(["head", "-1"], stdin=spend.stdout, capture_output=True, text=True,
                          timeout=60, check=True)
    spend.stdout.close()
    assert spend.wait(timeout=60) == 0 and spend.stderr.read() == b""
    assert head.stdout.startswith("LLM spend in ") and head.stdout.count("\n") == 1
    read, write = os.pipe()
    os.close(read)
    gone = subprocess.run(studio_command(data_dir, "spend", "--json"), stdout=write,
                          stderr=subprocess.PIPE, text=True, cwd=ROOT, timeout=60, check=False)
    os.close(write)
    assert gone.returncode == 0 and gone.stderr == ""
