"""Why a training stopped, in words a creator can act on, with the last log lines attached.

Under ``accelerate launch`` a failed trainer prints its own traceback, then accelerate prints
one of its own ending in ``subprocess.CalledProcessError: Command '[…]' returned non-zero exit
status 1.`` and exits 1 whatever the trainer's status was. The reason is the trainer's
exception, so accelerate's traceback is left out of both the headline and the lines shown, and
the trainer's own exit status is read from it.
"""
from __future__ import annotations

import re
from collections.abc import Sequence

_MISSING_MODULE = re.compile(r"No module named '([^']+)'")
_NO_FILE = re.compile(r"No such file or directory: '([^']+)'")
# A traceback's last line: a dotted exception name at the start of the line, then its message.
_EXCEPTION = re.compile(r"^((?:[A-Za-z_]\w*\.)*[A-Za-z_]\w*(?:Error|Exception|Interrupt|Exit))(?::\s*(.*))?$")
_LAUNCHER = re.compile(r"^subprocess\.CalledProcessError: Command .*(?:returned non-zero exit status "
                       r"(-?\d+)|died with <Signals\.\w+: (\d+)>)\.\s*$")
_USAGE = re.compile(r"^\S+\.py: error: (.+)$")
TAIL_LINES = 15
HEADLINE_CHARS = 240


def explain(returncode: int, tail: Sequence[str], *, no_data: bool = False,
            saved_model: bool = True) -> str:
    """One headline, then the log's last lines (the trainer's, not its launcher's)."""
    return f"{headline(returncode, tail, no_data=no_data, saved_model=saved_model)}\n" \
           f"Last lines of the log:\n" + "\n".join(trainer_lines(tail)[-TAIL_LINES:])


def headline(returncode: int, tail: Sequence[str], *, no_data: bool = False,
             saved_model: bool = True) -> str:
    lines = trainer_lines(tail)
    code = trainer_status(tail, returncode)
    text = "\n".join(lines)
    exception = trainer_exception(lines) if code != 0 else None
    # Known causes are looked for in the exception when there is one: a log line before it can
    # name a module or file that did not matter (bitsandbytes' optional kernels, for one).
    reason = ": ".join(exception) if exception else text
    if "OutOfMemoryError" in text or "CUDA out of memory" in text:
        return ("CUDA ran out of GPU memory: lower train_batch_size or resolution, turn on "
                "gradient_checkpointing, or choose a preset for less VRAM.")
    if found := _MISSING_MODULE.search(reason):
        return (f"sd-scripts is missing the Python module '{found.group(1)}': install its "
                "requirements into the Python it runs with (pip install -r requirements.txt), "
                "or set sdscripts.python.")
    if no_data:
        return "sd-scripts found no training images in the exported dataset folder."
    if found := _NO_FILE.search(reason):
        return f"sd-scripts could not find {found.group(1)}: check the base model and folders."
    if "MultipleInvalid" in text or "Invalid user config" in text:
        detail = f": {exception[1]}" if exception and exception[1] else "."
        return f"sd-scripts refused the dataset_config.toml{detail}"
    if code != 0:
        return _failed_headline(code, exception, lines)
    if not saved_model:
        return "sd-scripts ended without saving a LoRA."
    return "sd-scripts stopped."


def _failed_headline(code: int, exception: tuple[str, str] | None, lines: list[str]) -> str:
    if exception is not None:
        name, message = exception
        if name == "AssertionError":
            return f"sd-scripts refused the settings: {message}"
        return f"sd-scripts failed: {name}: {message}" if message else f"sd-scripts failed: {name}."
    usage = next((found.group(1) for line in lines[-3:] if (found := _USAGE.match(line))), None)
    if usage:
        return f"sd-scripts refused its command line: {_readable(usage)}"
    if code == 2 and any("error: " in line for line in lines[-3:]):
        return "sd-scripts refused its command line (an option this version does not know?)."
    if code < 0:
        return (f"sd-scripts was killed by signal {-code} (the system may have run out of "
                "memory).")
    return f"sd-scripts stopped with exit code {code}."


def trainer_lines(tail: Sequence[str]) -> list[str]:
    """The tail without accelerate's own traceback (the one raising CalledProcessError)."""
    lines = list(tail)
    end = _launcher_line(lines)
    if end is None:
        return lines
    start = next((i for i in range(end, -1, -1) if lines[i].startswith("Traceback (most recent")), end)
    return lines[:start] + lines[end + 1:]


def trainer_status(tail: Sequence[str], returncode: int) -> int:
    """The trainer's own exit status where accelerate reports it (accelerate itself exits 1)."""
    lines = list(tail)
    end = _launcher_line(lines)
    found = _LAUNCHER.match(lines[end]) if end is not None else None
    if found is None:
        return returncode
    return int(found.group(1)) if found.group(1) is not None else -int(found.group(2))


def trainer_exception(lines: Sequence[str]) -> tuple[str, str] | None:
    """The last exception line: its short type name and its message made one readable line."""
    for line in reversed(lines):
        found = _EXCEPTION.match(line)
        if found and not _LAUNCHER.match(line):
            return found.group(1).rsplit(".", 1)[-1], _readable(found.group(2) or "")
    return None


def _launcher_line(lines: list[str]) -> int | None:
    return next((i for i in range(len(lines) - 1, -1, -1) if _LAUNCHER.match(lines[i])), None)


def _readable(message: str) -> str:
    """sd-scripts writes 'English / 日本語': the English half, cut to one short line."""
    english, sep, rest = message.partition(" / ")
    if sep and not rest.isascii():
        message = english
    message = " ".join(message.split())
    return message if len(message) <= HEADLINE_CHARS else message[:HEADLINE_CHARS - 1] + "…"
