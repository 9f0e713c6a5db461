"""sd-scripts' console output as training progress.

The output is mostly tqdm redraws (``\\rsteps:  12%|█▏   | 120/1000 [01:02<07:38,  1.92it/s,
avr_loss=0.0812]``), with a few lines between them: the start block, ``epoch 3/10``,
``saving checkpoint: <path>``, ``model saved.``, tracebacks. So the hot path is one
``startswith`` that keeps the latest redraw as it is; it is parsed only when progress is asked
for (after each read from the pipe), and the rare other lines go through plain ``in`` tests.

sd-scripts redraws the bar twice a step: ``update(1)`` shows the new step with the previous
step's loss, then it samples and saves, then ``set_postfix`` shows the step's own loss. So a
step's numbers are those of its last redraw, known once the next step's bar (or the end of the
output) arrives: ``drain_steps()`` hands out each finished step once, ``finish()`` ends the last.

Sampling happens between those two redraws: ``generating sample images at step / …: N``, then
per image its ``prompt: …`` block and a nested diffusers bar (no ``steps:`` head, ending in
``\x1b[A``). The phase lasts until the next ``steps:`` bar, checkpoint or epoch line;
``sample_step`` and ``sample_images`` tell where it is (the nested bars stay out of the tail).
``interrupted`` is set by a sampling or a save and cleared by the next bar: until then the bar
on screen is stale.

``LineSplitter`` turns the bytes read from the pipe into lines, splitting on both ``\\r`` and
``\\n``; the unfinished last piece waits for the next read.
"""
from __future__ import annotations

import codecs
import re
from collections import deque
from dataclasses import dataclass, replace

PROGRESS_PREFIX = "steps:"
DONE_KEPT = 10_000  # finished steps kept for drain_steps(); one read from the pipe holds far fewer
_METER = re.compile(r"\|\s*(\d+)/(\d+)\s*\[([\d:]+)<([\d:?]+)(?:,\s*([\d.?]+)\s*(it/s|s/it))?")
_NUMBER_AFTER_COLON = re.compile(r"[:=]\s*(\d+)\s*$")
_EPOCH = re.compile(r"^epoch (\d+)/(\d+)\s*$")
_SAMPLE_PROMPT = re.compile(r"(?:^|\s)prompt: ")  # not negative_prompt:
_INNER_BAR = re.compile(r"^\s*\d+%\|")  # diffusers' per-image bar: no description before it
SAMPLING_STARTS = "generating sample images at step"
_NO_HEAD = "\n"  # no line holds a newline, so no bar starts with it


@dataclass(frozen=True, slots=True)
class StepProgress:
    step: int
    total: int
    loss: float | None
    rate: float | None  # steps per second
    elapsed_s: float
    eta_s: float | None
    epoch: int | None = None  # the epoch line last seen before the bar (set for finished steps)


class LineSplitter:
    """Bytes in, complete lines out; ``\\r`` and ``\\n`` both end a line."""

    __slots__ = ("_decoder", "carry")

    def __init__(self) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self.carry = ""  # the unfinished piece: often the bar being redrawn right now

    def feed(self, data: bytes) -> list[str]:
        text = self.carry + self._decoder.decode(data)
        if "\r" in text:
            text = text.replace("\r\n", "\n").replace("\r", "\n")
        lines = text.split("\n")
        self.carry = lines.pop()
        return lines

    def flush(self) -> list[str]:
        rest = self.carry + self._decoder.decode(b"", final=True)
        self.carry = ""
        return [rest] if rest else []


class LogParser:
    """Feed it lines in order; ask ``progress()`` for the latest step, loss, rate and ETA."""

    def __init__(self, tail: int = 80) -> None:
        self.tail: deque[str] = deque(maxlen=tail)  # the last lines that were not bar redraws
        self.total_steps: int | None = None
        self.epochs: int | None = None
        self.epoch: int | None = None
        self.train_images: int | None = None
        self.model_saved = False
        self.no_data = False
        self.saved: list[str] = []  # checkpoints announced since the last drain
        self.sample_step: int | None = None  # the step being sampled after; None: not sampling
        self.interrupted = False  # a sampling or save began after the latest bar
        self.sample_images = 0  # images of that sampling begun so far
        self.removed: list[str] = []
        self._bar = ""
        self._bar_epoch: int | None = None
        self._head = _NO_HEAD  # the bar up to its " [": the same while the step is the same
        # Finished steps' last redraws and epochs, until drained (the runner drains after each
        # read; a reader that never drains keeps only the latest, not the whole run).
        self._done: deque[tuple[str, int | None]] = deque(maxlen=DONE_KEPT)
        self._parsed_bar = ""
        self._progress: StepProgress | None = None

    def feed(self, line: str) -> None:
        self.feed_lines([line])

    def feed_lines(self, lines: list[str]) -> None:
        prefix = PROGRESS_PREFIX
        other = self._other
        done = self._done.append
        bar, head, bar_epoch = self._bar, self._head, self._bar_epoch
        for line in lines:
            if line.startswith(prefix):
                if self.interrupted:
                    self.bar_back()
                if not line.endswith("]"):  # something printed right after the bar, on its line
                    end = line.find("]") + 1
                    if line[end:]:
                        other(line[end:])
                    if not end:
                        continue
                    line = line[:end]
                if not line.startswith(head):  # a new step: the bar before was its step's last
                    if bar:
                        done((bar, bar_epoch))
                    cut = line.find(" [", 20)
                    head = line[:cut + 2] if cut >= 0 else line
                    bar_epoch = self.epoch  # "epoch N/M" comes before its step's first bar
                bar = line
            elif line:
                other(line)
        self._bar, self._head, self._bar_epoch = bar, head, bar_epoch

    def progress(self, pending: str = "") -> StepProgress | None:
        """The latest complete bar; ``pending`` is the splitter's unfinished piece, which is the
        bar on screen right now when tqdm has redrawn it without a newline."""
        line = pending if pending.startswith(PROGRESS_PREFIX) and pending.endswith("]") else self._bar
        if line and line != self._parsed_bar:
            self._parsed_bar = line
            parsed = parse_bar(line)
            if parsed is not None:
                self._progress = parsed
        return self._progress

    def drain_steps(self) -> list[StepProgress]:
        """Steps finished since the last drain, each with the numbers of its last redraw."""
        done = list(self._done)
        self._done.clear()
        steps = []
        for bar, epoch in done:
            parsed = parse_bar(bar)
            if parsed is not None:
                steps.append(replace(parsed, epoch=epoch))
        return steps

    def finish(self) -> None:
        """The output ended (call it once): the step on the bar is finished too."""
        if self._bar:
            self._done.append((self._bar, self._bar_epoch))

    def bar_back(self) -> None:
        """The main bar is drawn again: a sampling or save before it is over."""
        self.interrupted = False
        self.end_sampling()

    def end_sampling(self) -> None:
        self.sample_step = None
        self.sample_images = 0

    def drain_saved(self) -> list[str]:
        saved, self.saved = self.saved, []
        return saved

    def _other(self, line: str) -> None:
        if "validation steps:" in line:
            return  # validation bars redraw like the main one; they are not worth a tail line
        if self.sample_step is not None and self._sampling_line(line):
            return
        self.tail.append(line)
        if line.startswith("epoch "):
            found = _EPOCH.match(line)
            if found:
                self.bar_back()  # a new epoch: what came before it is over
                self.epoch, self.epochs = int(found.group(1)), int(found.group(2))
        elif SAMPLING_STARTS in line:
            self.sample_step, self.sample_images = _trailing_number(line) or 0, 0
            self.interrupted = True
        elif "saving checkpoint: " in line:
            self.end_sampling()
            self.interrupted = True
            self.saved.append(line.split("saving checkpoint: ", 1)[1].strip())
        elif "removing old checkpoint: " in line:
            self.removed.append(line.split("removing old checkpoint: ", 1)[1].strip())
        elif "model saved." in line:
            self.end_sampling()
            self.model_saved = True
        elif "total optimization steps" in line:
            self.total_steps = _trailing_number(line) or self.total_steps
        elif "num epochs" in line:
            self.epochs = _trailing_number(line) or self.epochs
        elif "num train images * repeats" in line:
            self.train_images = _trailing_number(line) or self.train_images
        elif "No data found" in line:
            self.no_data = True

    def _sampling_line(self, line: str) -> bool:
        """Counts the images of the sampling under way; True for a line left out of the tail."""
        if _INNER_BAR.match(line):
            return True
        if _SAMPLE_PROMPT.search(line):
            self.sample_images += 1
        return False


def parse_bar(line: str) -> StepProgress | None:
    """``steps:  12%|█▏        | 120/1000 [01:02<07:38,  1.92it/s, avr_loss=0.0812]``."""
    found = _METER.search(line)
    if found is None:
        return None
    step, total = int(found.group(1)), int(found.group(2))
    rate = None
    if found.group(5) and found.group(5) != "?":
        value = float(found.group(5))
        rate = value if found.group(6) == "it/s" else (1 / value if value else None)
    remaining = found.group(4)
    return StepProgress(step=step, total=total, loss=_postfix_float(line, "avr_loss="), rate=rate,
                        elapsed_s=_seconds(found.group(3)) or 0.0,
                        eta_s=None if "?" in remaining else _seconds(remaining))


def _postfix_float(line: str, key: str) -> float | None:
    start = line.find(key)
    if start < 0:
        return None
    start += len(key)
    end = start
    while end < len(line) and line[end] not in ",]":
        end += 1
    try:
        return float(line[start:end])
    except ValueError:
        return None


def _seconds(clock: str) -> float | None:
    try:
        parts = [int(p) for p in clock.split(":")]
    except ValueError:
        return None
    seconds = 0
    for part in parts:
        seconds = seconds * 60 + part
    return float(seconds)


def _trailing_number(line: str) -> int | None:
    found = _NUMBER_AFTER_COLON.search(line)
    return int(found.group(1)) if found else None
