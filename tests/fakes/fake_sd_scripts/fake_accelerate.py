"""A stand-in for ``accelerate launch`` (accelerate 1.6.0, one process, as sd-scripts is run here).

Like the real launcher it warns on stderr about the values it defaulted, runs the script with
its own Python as a child, and when the child fails lets ``subprocess.CalledProcessError``
escape: Python prints accelerate's traceback after the trainer's own and the launcher exits 1,
whatever the trainer's exit status was (``died with <Signals.SIGKILL: 9>.`` for a killed one).

Tests run it through an executable ``accelerate`` file that ``write_launcher`` makes.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

DEFAULTS_WARNING = (
    "The following values were not passed to `accelerate launch` and had defaults used instead:\n"
    "\t`--num_processes` was set to a value of `0`\n"
    "\t`--num_machines` was set to a value of `1`\n"
    "\t`--mixed_precision` was set to a value of `'no'`\n"
    "\t`--dynamo_backend` was set to a value of `'no'`\n"
    "To avoid this warning pass in values for each of the problematic parameters or run `accelerate config`.\n")


def simple_launcher(script_and_args: list[str]) -> None:
    cmd = [sys.executable, *script_and_args]
    process = subprocess.Popen(cmd, env=dict(os.environ))
    process.wait()
    if process.returncode != 0:
        raise subprocess.CalledProcessError(returncode=process.returncode, cmd=cmd)


def main(argv: list[str]) -> None:
    if not argv or argv[0] != "launch":
        sys.stderr.write("usage: accelerate <command> [<args>]\n")
        sys.exit(2)
    rest = argv[1:]
    while rest and rest[0].startswith("--"):  # launcher options come before the script
        rest = rest[2:]
    sys.stderr.write(DEFAULTS_WARNING)
    sys.stderr.flush()
    simple_launcher(rest)


def write_launcher(folder: Path) -> Path:
    """``folder/bin/accelerate``: an executable that runs this launcher with the current Python."""
    path = folder / "bin" / "accelerate"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"#!{sys.executable}\nimport sys\nsys.path.insert(0, {str(Path(__file__).parent)!r})\n"
                    "from fake_accelerate import main\nmain(sys.argv[1:])\n", encoding="utf-8")
    path.chmod(0o755)
    return path


if __name__ == "__main__":
    main(sys.argv[1:])
