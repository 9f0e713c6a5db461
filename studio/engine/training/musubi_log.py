"""musubi-tuner's console output as progress, for its caching stages.

The caching scripts (cache_latents.encode_datasets, cache_text_encoder_outputs.
process_text_encoder_batches, commit 30c658c) log through ``logging.basicConfig(level=INFO)``,
so a line reads ``INFO:musubi_tuner.cache_latents:Encoding dataset [0]``, and wrap each
dataset's batches in a bare ``tqdm(...)`` over a generator: no description and no total, so the
bar is tqdm's unknown-length meter, ``12it [00:05,  2.31it/s]`` (``?it/s`` before the first
batch, ``s/it`` when slower than one a second), redrawn with ``\\r`` on stderr. The number of
batches is not printed anywhere; the stage knows how many items it gave (pictures and clips
times repeats do not matter: caches are per file) and counts batches against that.

The trainer's own output has sd-scripts' shape (trainer_base.py: ``tqdm(…, desc="steps")``,
``set_postfix(avr_loss=…)``, ``\\nepoch N/M``, ``\\nsaving checkpoint: <path>``,
``model saved.``, ``total optimization steps / 学習ステップ数: N``), so log_parser.LogParser
reads it unchanged; test_musubi_log.py holds real lines of both.
"""
from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass

# "12it [00:05,  2.31it/s]" or a sized bar's "| 3/10 [00:01<00:02,  2.00it/s]".
_UNSIZED = re.compile(r"^\s*(\d+)it \[([\d:]+),\s*([\d.?]+)(it/s|s/it)")
_SIZED = re.compile(r"\|\s*(\d+)/(\d+) \[([\d:]+)<[\d:?]+,\s*([\d.?]+)(it/s|s/it)")
_DATASET = re.compile(r"Encoding dataset \[(\d+)\]")


@dataclass(frozen=True, slots=True)
class CacheProgress:
    dataset: int  # musubi's dataset index (0: pictures, 1: clips when both)
    batches: int  # batches done in this dataset
    total: int | None  # batches in it, when the bar knows
    rate: float | None  # batches per second
    elapsed_s: float


class CacheLogParser:
    """Feed it lines in order; ``progress`` is the latest bar of the dataset being cached."""

    def __init__(self, tail: int = 40) -> None:
        self.tail: deque[str] = deque(maxlen=tail)  # lines that were not bar redraws
        self.dataset = 0
        self.progress: CacheProgress | None = None
        self.finished_batches = 0  # batches of the datasets before this one

    def feed_lines(self, lines: list[str]) -> None:
        for line in lines:
            parsed = parse_cache_bar(line, self.dataset)
            if parsed is not None:
                self.progress = parsed
                continue
            if not line.strip():
                continue
            self.tail.append(line)
            found = _DATASET.search(line)
            if found and int(found.group(1)) != self.dataset:
                self.finished_batches += self.progress.batches if self.progress else 0
                self.dataset, self.progress = int(found.group(1)), None

    def done(self) -> int:
        """Batches cached so far over every dataset."""
        return self.finished_batches + (self.progress.batches if self.progress else 0)


def parse_cache_bar(line: str, dataset: int = 0) -> CacheProgress | None:
    sized = _SIZED.search(line)
    if sized:
        return CacheProgress(dataset=dataset, batches=int(sized.group(1)), total=int(sized.group(2)),
                             rate=_rate(sized.group(4), sized.group(5)), elapsed_s=_seconds(sized.group(3)))
    unsized = _UNSIZED.match(line)
    if unsized:
        return CacheProgress(dataset=dataset, batches=int(unsized.group(1)), total=None,
                             rate=_rate(unsized.group(3), unsized.group(4)), elapsed_s=_seconds(unsized.group(2)))
    return None


def _rate(number: str, unit: str) -> float | None:
    if number == "?" or not float(number):
        return None
    return float(number) if unit == "it/s" else 1 / float(number)


def _seconds(clock: str) -> float:
    seconds = 0
    for part in clock.split(":"):
        seconds = seconds * 60 + int(part)
    return float(seconds)
