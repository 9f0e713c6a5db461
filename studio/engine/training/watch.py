"""Runs sd-scripts and follows it: progress, loss points, checkpoints and samples as they appear.

Every line goes to the training's ``train.log`` (tqdm's ``\\r`` redraws become lines of their
own); each finished step's numbers go to ``metrics.jsonl`` (one JSON object per line, appended),
which the UI reads in the background for the loss chart. A step is finished when the next one's
bar appears or the output ends: its last redraw carries its own loss (see log_parser). A resumed
run first drops the points past its saved step. Checkpoints are handed to ``on_checkpoint`` once
complete; samples are listed as they are written. While sd-scripts makes sample images (with the
bar at the step's count, "0 s left" at the end) the job's stage says so, image by image; the next
bar brings the training stage back. Cancel (``check_canceled`` raising) or any other error ends
the process group before it propagates.
"""
from __future__ import annotations

import json
import shlex
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO

from studio.engine.jobs.errors import JobFailed
from studio.engine.training.command import TrainingFiles
from studio.engine.training.failures import explain
from studio.engine.training.identity import SampleScorer, sample_label
from studio.engine.training.log_parser import PROGRESS_PREFIX, LineSplitter, LogParser, StepProgress
from studio.engine.training.process import EOF, TrainerProcess, group_alive
from studio.engine.training.results import checkpoint_kind

Report = Callable[[float, str, str], None]
READ_WAIT_S = 0.5
SCAN_EVERY_S = 1.0
STOP_GRACE_S = 10.0
SAMPLING_STAGE = "Generating sample images"


@dataclass(slots=True)
class WatchOutcome:
    returncode: int = 0
    checkpoints: list[Path] = field(default_factory=list)
    samples: list[Path] = field(default_factory=list)
    last_step: int = 0
    seconds_per_step: float | None = None


def watch_training(argv: Sequence[str], files: TrainingFiles, *, cwd: Path, output_name: str,
                   total_steps: int, resume_step: int, report: Report, on_checkpoint: Callable[[Path], bool],
                   check_canceled: Callable[[], None], env: Mapping[str, str] | None = None,
                   grace_s: float | None = None, scorer: SampleScorer | None = None) -> WatchOutcome:
    """``scorer`` scores each new sample in its own thread; it is closed (its last samples
    scored) before this returns or raises."""
    try:
        return _watch(argv, files, cwd=cwd, total_steps=total_steps, env=env,
                      grace_s=STOP_GRACE_S if grace_s is None else grace_s,
                      follower=Follower(files, output_name, total_steps, resume_step, report, on_checkpoint,
                                        scorer=scorer),
                      check_canceled=check_canceled)
    finally:
        if scorer is not None:
            scorer.close()


def _watch(argv: Sequence[str], files: TrainingFiles, *, cwd: Path, total_steps: int,
           env: Mapping[str, str] | None, grace_s: float, follower: Follower,
           check_canceled: Callable[[], None]) -> WatchOutcome:
    resume_step = follower.resume_step
    files.output_dir.mkdir(parents=True, exist_ok=True)
    process = TrainerProcess(argv, cwd=cwd, env=env)
    if resume_step:
        _keep_points_up_to(files.metrics_file, resume_step)  # the steps after it are trained again
    with open(files.log_file, "a", encoding="utf-8") as log, \
            open(files.metrics_file, "a" if resume_step else "w", encoding="utf-8") as metrics:
        log.write(f"--- {datetime.now().isoformat(timespec='seconds')} {shlex.join(argv)}\n")
        log.flush()
        process.start()
        try:
            _follow(process, follower, log, metrics, check_canceled)
        except BaseException as exc:
            log.write(f"--- stopping sd-scripts: {exc}\n")
            log.flush()
            process.stop(grace_s)
            follower.scan(force=True)  # checkpoints finished before the stop are kept
            raise
        code = process.wait()
        if group_alive(process.pid or 0):
            process.stop(grace_s)  # data-loader workers that outlived the trainer
    follower.scan(force=True)
    follower.outcome.returncode = code
    parser = follower.parser
    if code != 0 or parser.no_data or not follower.final_seen:
        raise JobFailed(explain(code, list(parser.tail), no_data=parser.no_data,
                                saved_model=follower.final_seen))
    follower.report(1.0, "Training", f"{len(follower.outcome.checkpoints)} checkpoint(s) saved")
    return follower.outcome


def _follow(process: TrainerProcess, follower: Follower, log: IO[str], metrics: IO[str],
            check_canceled: Callable[[], None]) -> None:
    while True:
        chunk = process.read(READ_WAIT_S)
        if chunk == EOF:
            follower.take_end(log, metrics)
            return
        if chunk:
            follower.take(chunk, log, metrics)
            log.flush()
        check_canceled()
        follower.scan()


class Follower:
    """What one training's output means, read by read: progress reports, metrics, files."""

    def __init__(self, files: TrainingFiles, output_name: str, total_steps: int, resume_step: int,
                 report: Report, on_checkpoint: Callable[[Path], bool], *,
                 scorer: SampleScorer | None = None) -> None:
        self.files = files
        self.scorer = scorer
        self._sampling_steps: dict[int, int] = {}  # epoch (0 before the first) -> step sampled at
        self._sample_sizes: dict[str, int] = {}  # samples not yet scored -> size at the last scan
        self.total_steps = total_steps
        self.resume_step = resume_step
        self.report = report
        self.on_checkpoint = on_checkpoint
        self.splitter = LineSplitter()
        self.parser = LogParser()
        self.outcome = WatchOutcome(last_step=resume_step)
        self.output_name = output_name
        self._taken: dict[str, float] = {}  # checkpoint name -> mtime when taken
        self._samples: set[str] = set()
        self._last_scan = 0.0
        self._announced: set[str] = set()  # checkpoint names printed, maybe not yet written
        self._last_metric_step = resume_step
        self._last_shown_step = resume_step
        self._stage = "Training"  # the stage last reported
        self._sample_count: int | None = None  # prompts in the sample file, read when first needed

    def take(self, chunk: bytes, log: IO[str], metrics: IO[str]) -> None:
        """One read from the trainer's output: logged, parsed, shown."""
        lines = self.splitter.feed(chunk)
        if lines:
            log.write("\n".join(lines) + "\n")
            self.parser.feed_lines(lines)
        self.update(metrics, self.splitter.carry)

    def take_end(self, log: IO[str], metrics: IO[str]) -> None:
        lines = self.splitter.flush()
        if lines:
            log.write("\n".join(lines) + "\n")
            self.parser.feed_lines(lines)
        self.parser.finish()  # the last step has no next bar to end it
        self.update(metrics, "")

    @property
    def final_seen(self) -> bool:
        return self.parser.model_saved or any(
            checkpoint_kind(p, self.output_name)[0] == "final" for p in self.outcome.checkpoints)

    def update(self, metrics: IO[str], pending: str) -> None:
        parser = self.parser
        if parser.interrupted and pending.startswith(PROGRESS_PREFIX):
            parser.bar_back()  # the bar is back on screen (not yet ended by a newline)
        if parser.saved:
            self._announced.update(Path(p).name for p in parser.drain_saved())
            self._stage = "Saving checkpoint"
            self.report(self._fraction(), self._stage, "")
        finished = parser.drain_steps()
        for done in finished:
            self._record(metrics, done)
        if finished:
            metrics.flush()
        progress = parser.progress(pending)
        if progress is not None:
            self._show(progress)
        if parser.sample_step is not None:
            self._sampling_steps[parser.epoch or 0] = parser.sample_step
            self._show_sampling(parser.sample_step, parser.sample_images)

    def _record(self, metrics: IO[str], progress: StepProgress) -> None:
        """One point per finished step, from its last redraw (the one with its own loss)."""
        step, total = self._global(progress)
        if step <= self._last_metric_step:
            return
        self._last_metric_step = step
        if progress.rate:
            self.outcome.seconds_per_step = round(1 / progress.rate, 4)
        metrics.write(json.dumps(self._point(progress, step, total, progress.epoch)) + "\n")

    def _show(self, progress: StepProgress) -> None:
        """The job's progress follows the bar on screen, as soon as a step begins."""
        step, total = self._global(progress)
        if step <= self._last_shown_step and self._stage == "Training":
            return
        self._last_shown_step = max(step, self._last_shown_step)
        self.outcome.last_step = self._last_shown_step
        if self.parser.interrupted:
            return  # the bar stands still while samples are made or a file saved: that shows
        self._stage = "Training"
        self.report(step / max(total, 1), self._stage, describe(self._point(progress, step, total,
                                                                            self.parser.epoch)))

    def _show_sampling(self, sample_step: int, images: int) -> None:
        """``Generating sample images (2 of 4)``: the count is in the stage, so that each image
        is written at once (the job writes a changed stage without waiting)."""
        if self._sample_count is None:
            self._sample_count = count_sample_prompts(self.files.sample_prompts)
        stage = SAMPLING_STAGE
        if images:
            stage += f" ({images} of {self._sample_count})" if self._sample_count else f" ({images})"
        if stage == self._stage:
            return
        self._stage = stage
        # sd-scripts names the run's own step count here, a resumed run's included (unlike its bar).
        total = self.total_steps or self.parser.total_steps
        where = f"after step {sample_step}/{total}" if total else f"after step {sample_step}"
        self.report(self._fraction(), stage, where)

    def _point(self, progress: StepProgress, step: int, total: int, epoch: int | None) -> dict[str, object]:
        return {"step": step, "total": total, "epoch": epoch, "epochs": self.parser.epochs,
                "loss": progress.loss, "rate": progress.rate, "eta_s": progress.eta_s,
                "elapsed_s": progress.elapsed_s, "t": round(time.time(), 3)}

    def scan(self, *, force: bool = False) -> None:
        now = time.monotonic()
        if not force and not self._announced and now - self._last_scan < SCAN_EVERY_S:
            return
        self._last_scan = now
        for path in sorted(self.files.output_dir.glob("*.safetensors")):
            mtime = path.stat().st_mtime
            if self._taken.get(path.name) == mtime:
                continue
            if self.on_checkpoint(path):  # False while still being written: look again next time
                self._taken[path.name] = mtime
                self._announced.discard(path.name)
                if path not in self.outcome.checkpoints:
                    self.outcome.checkpoints.append(path)
                if self.scorer is not None:
                    self.scorer.checkpoint_saved()
        for sample in sorted(self.files.samples_dir.glob("*.png")) if self.files.samples_dir.is_dir() else []:
            if sample.name not in self._samples:
                self._samples.add(sample.name)
                self.outcome.samples.append(sample)
            if self.scorer is not None and not self.scorer.known(sample):
                self._offer(sample, self.scorer, force=force)

    def _offer(self, sample: Path, scorer: SampleScorer, *, force: bool) -> None:
        """sd-scripts writes a sample in place: it is scored once its size held over a scan."""
        try:
            size = sample.stat().st_size
        except OSError:
            return
        if force or (size and self._sample_sizes.get(sample.name) == size):
            scorer.add(sample, self.sample_step(sample.name))
        else:
            self._sample_sizes[sample.name] = size

    def sample_step(self, name: str) -> int:
        """The step a sample was made at: in its name, or, for an epoch's samples, the step that
        epoch's sampling began at (the bar stands still while sampling, so the current step else)."""
        label = sample_label(name)
        if label is not None and label[0] == "step":
            return label[1]
        if label is not None and label[1] in self._sampling_steps:
            return self._sampling_steps[label[1]]
        return self.outcome.last_step

    def _global(self, progress: StepProgress) -> tuple[int, int]:
        """sd-scripts counts a resumed run's bar from 0 over the remaining steps; map it back."""
        if self.resume_step and self.total_steps and progress.total == self.total_steps - self.resume_step:
            return progress.step + self.resume_step, self.total_steps
        return progress.step, progress.total

    def _fraction(self) -> float:
        return self.outcome.last_step / max(self.total_steps or 1, 1)


def _keep_points_up_to(path: Path, step: int) -> None:
    """Drops the points past ``step`` that a failed run wrote; replaced whole, so a reader
    following the file by offset sees it shrink and reads it again from the start."""
    if not path.is_file():
        return
    kept = []
    for line in path.read_text(encoding="utf-8").splitlines(keepends=True):
        try:
            if int(json.loads(line)["step"]) <= step and line.endswith("\n"):
                kept.append(line)
        except (ValueError, KeyError, TypeError):
            continue  # a half-written line from a run that was killed
    partial = path.with_suffix(".jsonl.partial")
    partial.write_text("".join(kept), encoding="utf-8")
    partial.replace(path)


def count_sample_prompts(path: Path) -> int | None:
    """The prompts sd-scripts reads from a .txt prompt file: its non-empty lines not starting
    with '#'; None when the file is not there (the count then stays unsaid)."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return None
    return sum(1 for line in lines if line.strip() and not line.startswith("#")) or None


def describe(point: Mapping[str, object]) -> str:
    """``step 120/1000 · epoch 2/10 · loss 0.0812 · 1.92 it/s · 7 min 38 s left``."""
    parts = [f"step {point['step']}/{point['total']}"]
    if point.get("epoch") and point.get("epochs"):
        parts.append(f"epoch {point['epoch']}/{point['epochs']}")
    if isinstance(point.get("loss"), float):
        parts.append(f"loss {point['loss']:.4f}")
    rate = point.get("rate")
    if isinstance(rate, float) and rate > 0:
        parts.append(f"{rate:.2f} it/s" if rate >= 1 else f"{1 / rate:.2f} s/it")
    eta = point.get("eta_s")
    if isinstance(eta, (int, float)):
        parts.append(f"{_duration(float(eta))} left")
    return " · ".join(parts)


def _duration(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours} h {minutes:02d} min"
    return f"{minutes} min {secs:02d} s" if minutes else f"{secs} s"
