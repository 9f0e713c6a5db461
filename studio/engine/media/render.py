"""Runs one FFmpeg command: live progress from ``-progress pipe:1``, cancel, no partial output.

The command is an argument list, never a shell line. FFmpeg runs in its own process group: a
cancel ends it (SIGKILL: the output is discarded anyway) and nothing else; on Linux it also
dies with this process (engine/process_group.py), so a kill -9 of a worker or command line leaves no encoder running.
Output goes to a hidden file beside the target, named after this process, and is renamed over
it only when FFmpeg succeeded, so a cancel or failure leaves no half-written video where the
user looks; one left by a killed process is swept by the next render into that folder
(media/partials.py).
"""
from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

from studio.engine.errors import StudioError
from studio.engine.jobs.errors import JobCanceled
from studio.engine.media.partials import partial_name, sweep
from studio.engine.process_group import tied_group

POLL_S = 0.1
TERM_GRACE_S = 3.0
STDERR_LINES = 200
_ERROR_WORDS = ("error", "invalid", "unable", "no such", "not found", "cannot", "failed",
                "does not", "unknown", "permission denied")
# Lines that follow every failure and say nothing of its cause.
_GENERIC = ("conversion failed", "task finished with error", "terminating thread",
            "could not open encoder before eof", "nothing was written", "error reinitializing",
            "failed to configure", "failed to evaluate", "error while filtering")


class RenderFailed(StudioError):
    """FFmpeg exited with an error; the message is its most telling line."""


@dataclass(frozen=True, slots=True)
class RenderProgress:
    out_time_s: float
    frame: int
    fps: float
    speed: float  # 1.0 = real time; 0 while unknown
    fraction: float  # of the expected duration; 1.0 at the end
    done: bool


@dataclass(frozen=True, slots=True)
class RenderResult:
    returncode: int
    stderr: str  # the last lines FFmpeg wrote there (loudnorm's JSON, ebur128's summary…)


ProgressCallback = Callable[[RenderProgress], None]
CancelCheck = Callable[[], bool]


def progress_blocks(lines: Iterable[str]) -> Iterator[dict[str, str]]:
    """``key=value`` lines grouped into blocks, each closed by a ``progress=`` line."""
    block: dict[str, str] = {}
    for line in lines:
        key, sep, value = line.strip().partition("=")
        if not sep:
            continue
        block[key] = value.strip()
        if key == "progress":
            yield block
            block = {}


def to_progress(block: dict[str, str], total_s: float) -> RenderProgress:
    """One block as numbers; ``N/A`` (early blocks) reads as 0."""
    micro = _number(block.get("out_time_us") or block.get("out_time_ms"))
    out_time = max(micro / 1e6, 0.0)
    done = block.get("progress") == "end"
    fraction = 1.0 if done else (min(out_time / total_s, 0.999) if total_s > 0 else 0.0)
    return RenderProgress(out_time_s=out_time, frame=int(_number(block.get("frame"))),
                          fps=_number(block.get("fps")),
                          speed=_number((block.get("speed") or "").rstrip("x")),
                          fraction=fraction, done=done)


def run_ffmpeg(argv: list[str], *, total_s: float = 0.0, output: Path | None = None,
               on_progress: ProgressCallback | None = None,
               cancel: CancelCheck | None = None) -> RenderResult:
    """Runs ``argv``; when ``output`` is given, argv's last element must be that path and the
    file appears there whole or not at all. Raises RenderFailed or JobCanceled."""
    temp = partial_name(output) if output is not None else None
    if output is not None:
        if argv[-1] != str(output):
            raise ValueError("the output path must be the last argument")
        argv = [*argv[:-1], str(temp)]
        output.parent.mkdir(parents=True, exist_ok=True)
        sweep(output.parent)
    try:
        result = _run(argv, total_s, on_progress, cancel)
        if result.returncode != 0:
            raise RenderFailed(f"FFmpeg failed: {telling_line(result.stderr, result.returncode)}")
        if output is not None and temp is not None:
            os.replace(temp, output)
        return result
    finally:
        if temp is not None:
            temp.unlink(missing_ok=True)


def telling_line(stderr: str, returncode: int) -> str:
    """The first line that names a cause; FFmpeg's closing lines only say that it failed."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    causes = [line for line in lines if any(w in line.lower() for w in _ERROR_WORDS)
              and not any(g in line.lower() for g in _GENERIC)]
    if causes:
        return _without_address(causes[0])
    return lines[-1] if lines else f"exit code {returncode}"


def _without_address(line: str) -> str:
    """``[Parsed_boxblur_3 @ 0x7f…] Invalid …`` reads as ``boxblur: Invalid …``."""
    found = re.match(r"\[(?:Parsed_)?([A-Za-z0-9_:#/]+?)(?:_\d+)? @ 0x[0-9a-f]+\]\s*(.*)", line)
    return f"{found.group(1)}: {found.group(2)}" if found else line


def _run(argv: list[str], total_s: float, on_progress: ProgressCallback | None,
         cancel: CancelCheck | None) -> RenderResult:
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, errors="replace",
                            **tied_group())
    lines: queue.Queue[str | None] = queue.Queue()
    tail: deque[str] = deque(maxlen=STDERR_LINES)
    readers = [threading.Thread(target=_pump, args=(proc.stdout, lines.put, lambda: lines.put(None)),
                                daemon=True),
               threading.Thread(target=_pump, args=(proc.stderr, tail.append), daemon=True)]
    for reader in readers:
        reader.start()
    try:
        _follow(lines, total_s, on_progress, cancel, proc)
        proc.wait()
    except BaseException:
        _stop(proc)
        raise
    finally:
        for reader in readers:
            reader.join(timeout=5)
    return RenderResult(proc.returncode, "\n".join(tail))


def _follow(lines: queue.Queue[str | None], total_s: float,
            on_progress: ProgressCallback | None, cancel: CancelCheck | None,
            proc: subprocess.Popen[str]) -> None:
    block: dict[str, str] = {}
    furthest = 0.0
    while True:
        if cancel is not None and cancel():
            _stop(proc)
            raise JobCanceled("Canceled by the user.")
        try:
            line = lines.get(timeout=POLL_S)
        except queue.Empty:
            continue
        if line is None:  # stdout closed: FFmpeg is ending
            return
        key, sep, value = line.strip().partition("=")
        if not sep:
            continue
        block[key] = value.strip()
        if key == "progress":
            step = to_progress(block, total_s)
            # A block early in an encode can lack a time (N/A): the bar never moves back.
            if step.fraction < furthest:
                step = replace(step, fraction=furthest)
            furthest = step.fraction
            if on_progress is not None:
                on_progress(step)
            block = {}


def _pump(stream: Iterable[str], sink: Callable[[str], None],
          closed: Callable[[], None] | None = None) -> None:
    for line in stream:
        sink(line)
    if closed is not None:
        closed()


def _stop(proc: subprocess.Popen[str]) -> None:
    """Ends FFmpeg's whole process group at once. Its output is thrown away, so there is
    nothing to finish politely: on SIGTERM, FFmpeg first flushes the encoder's queued frames
    (seconds at 1080p), which only kept a cancel waiting."""
    if proc.poll() is not None:
        return
    _signal_group(proc, getattr(signal, "SIGKILL", signal.SIGTERM))
    proc.wait(timeout=TERM_GRACE_S)


def _signal_group(proc: subprocess.Popen[str], sig: int) -> None:
    try:
        if sys.platform == "win32":
            proc.kill()
        else:
            os.killpg(proc.pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _number(text: str | None) -> float:
    try:
        return float(text) if text not in (None, "", "N/A") else 0.0
    except ValueError:
        return 0.0
