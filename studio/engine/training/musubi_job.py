"""A musubi-tuner training (Qwen-Image, Wan 2.2 14B): planned like an sd-scripts one, run as
three stages of the same train-lora job.

``plan_musubi`` answers what ``plan_training`` answers for sd-scripts (the dry run, the Training
page and ``submit_training`` all ask it), with every stage's command. ``run_musubi`` exports
the dataset, caches latents, caches text-encoder outputs, then trains, each stage with its own
progress; cancel stops whichever runs. A finished cache leaves a marker naming its command, so
a training run again (``train resume``) keeps its export and skips the caches made for it;
musubi-tuner cannot go on from a saved state's step, so the training itself starts over.
"""
from __future__ import annotations

import json
import math
import shlex
import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from studio.engine.fsutil import atomic_write_text
from studio.engine.jobs.context import JobContext
from studio.engine.jobs.errors import JobFailed
from studio.engine.training.command import Launch, TrainingFiles
from studio.engine.training.config import TrainingConfig
from studio.engine.training.failures import explain
from studio.engine.training.log_parser import LineSplitter
from studio.engine.training.musubi import Stage, musubi_stages
from studio.engine.training.musubi_dataset import (
    VIDEO_FAMILIES,
    MusubiData,
    VideoSettings,
    clip_warnings,
    dataset_config_text,
    preset_table,
    video_settings,
)
from studio.engine.training.musubi_env import musubi_env, resolve_musubi
from studio.engine.training.musubi_log import CacheLogParser
from studio.engine.training.musubi_plan import MusubiPlan, plan_musubi
from studio.engine.training.process import EOF, TrainerProcess

READ_WAIT_S = 0.5
CLIP_SUFFIXES = (".mp4", ".webm", ".mov")

__all__ = ["MusubiPlan", "plan_musubi", "run_musubi"]


@dataclass(frozen=True, slots=True)
class Prepared:
    files: TrainingFiles
    launch: Launch
    config: TrainingConfig
    version: str
    items: int  # pictures and clips exported


def run_musubi(ctx: JobContext, payload: Any, config: TrainingConfig) -> Any:
    """The job's body for a musubi family (payload: jobs.TrainingPayload)."""
    from studio.engine.storage.local import LocalStore
    from studio.engine.training import jobs
    from studio.engine.training.results import TrainingRef, register_checkpoint
    from studio.engine.training.watch import watch_training
    ready = _prepare(ctx, payload, config)
    jobs._free_comfyui_memory(ctx)
    stages = musubi_stages(ready.config, ready.launch, ready.files, payload.output_name)
    for stage in stages[:-1]:
        run_cache_stage(ctx, stage, ready, expected=_batches(stage, ready.items))
    ref = TrainingRef(workspace_id=ctx.workspace_id, job_id=ctx.job_id, influencer_id=payload.influencer_id,
                      output_name=payload.output_name, base_model=_base_name(ready.config),
                      config=ready.config.to_dict(), dataset_id=str(payload.dataset_id),
                      dataset_version=ready.version, preset=payload.preset)
    store = LocalStore(ctx.paths.assets_dir)
    ctx.progress(0.0, stage=stages[-1].title, message="loading the model")
    try:
        outcome = watch_training(
            list(stages[-1].argv), ready.files, cwd=ready.launch.folder, output_name=payload.output_name,
            total_steps=payload.total_steps, resume_step=0, report=jobs._reporter(ctx),
            on_checkpoint=lambda path: register_checkpoint(ctx.db, store, ref, path) is not None,
            check_canceled=ctx.check_canceled, env=musubi_env(ready.launch))
    except JobFailed as exc:  # the explanations name sd-scripts, whose output musubi's shares
        raise JobFailed(_named(str(exc))) from exc
    final = [c for c in outcome.checkpoints if c.name == f"{payload.output_name}.safetensors"]
    placed = jobs._hand_off(ctx, final[0].name) if final and payload.hand_off else None
    return jobs.TrainingResult(
        output_name=payload.output_name, checkpoints=tuple(c.name for c in outcome.checkpoints),
        samples=tuple(s.name for s in outcome.samples), steps=outcome.last_step,
        seconds_per_step=outcome.seconds_per_step, resumed_from=None, dataset_version=ready.version,
        comfyui_lora=str(placed) if placed else None)


def _named(text: str) -> str:
    return text.replace("sd-scripts", "musubi-tuner")


def _base_name(config: TrainingConfig) -> str:
    tokens = dict(config.extra_options).get("dit", ())
    return Path(tokens[0]).name if tokens else ""


def _prepare(ctx: JobContext, payload: Any, config: TrainingConfig) -> Prepared:
    """The folder and musubi-tuner here (a worker on another machine uses its own settings), the
    dataset exported (kept when the caches were made from it) and the dataset config written."""
    from studio.engine.training.musubi_plan import model_problems, with_preset_options
    config = with_preset_options(config, payload.preset)
    files, launch = _on_this_machine(ctx, payload)
    problems = model_problems(config, payload.preset)
    if problems:
        raise JobFailed(f"{problems[0]} (on {socket.gethostname()})")
    cached = any(_marker(files, key).is_file() for key in ("latents", "text"))
    manifest = _export(ctx, payload, files, config, keep=cached)
    entries = manifest.get("images") or []
    clips = [e for e in entries if str(e.get("file", "")).lower().endswith(CLIP_SUFFIXES)]
    if not entries:
        raise JobFailed("The dataset has no pictures or clips to train on any more.")
    folder = files.dataset_dir / Path(str(entries[0]["file"])).parent
    video = _video(ctx, payload.preset, config, folder, len(clips))
    data = MusubiData(folder=folder, images=len(entries) - len(clips), clips=len(clips),
                      repeats=int(manifest.get("repeats") or 1), cache_dir=files.root / "cache")
    atomic_write_text(files.dataset_config, dataset_config_text(config, data, video))
    return Prepared(files=files, launch=launch, config=config,
                    version=str(manifest.get("dataset_version") or ""), items=len(entries))


def _on_this_machine(ctx: JobContext, payload: Any) -> tuple[TrainingFiles, Launch]:
    root = payload.root
    if root.is_relative_to(ctx.paths.data_dir):
        return TrainingFiles(root), Launch(folder=payload.sd_scripts, python=payload.python,
                                           accelerate=payload.accelerate)
    files = TrainingFiles(ctx.paths.data_dir / "training" / root.parent.name / root.name)
    folder = ctx.settings.musubi.folder.strip()
    if not folder:
        raise JobFailed("This training was queued on another machine: set musubi.folder on this "
                        f"worker ({socket.gethostname()}) to its kohya musubi-tuner folder.")
    files.root.mkdir(parents=True, exist_ok=True)
    return files, resolve_musubi(Path(folder), ctx.settings.musubi.python)


def _export(ctx: JobContext, payload: Any, files: TrainingFiles, config: TrainingConfig, *,
            keep: bool) -> dict[str, Any]:
    from studio.engine.training.jobs import export_for_training
    data, fresh = export_for_training(ctx, payload.dataset_id, files, config, keep=keep)
    if fresh:
        for key in ("latents", "text"):
            _marker(files, key).unlink(missing_ok=True)  # caches of another export
    return data


def _video(ctx: JobContext, slug: str, config: TrainingConfig, folder: Path,
           clips: int) -> VideoSettings | None:
    if config.family not in VIDEO_FAMILIES:
        return None
    video = video_settings(preset_table(slug, "dataset"))
    if clips:
        from studio.engine.datasets.video_export import video_entries
        for warning in clip_warnings(video_entries(folder), video):
            ctx.progress(0.0, stage="Exporting the dataset", message=warning)
    return video


# Caching stages ---------------------------------------------------------------------------------

def _marker(files: TrainingFiles, key: str) -> Path:
    return files.root / "cache" / f"{key}.done"


def _batches(stage: Stage, items: int) -> int:
    """How many batches the stage's bar will count: one per item for latents (the dataset's
    batch size is usually 1), the --batch_size for text-encoder outputs."""
    argv = list(stage.argv)
    size = int(argv[argv.index("--batch_size") + 1]) if "--batch_size" in argv else 1
    return max(1, math.ceil(items / max(1, size)))


def run_cache_stage(ctx: JobContext, stage: Stage, ready: Prepared, *, expected: int) -> None:
    """Runs one caching script to its end, reporting batches done as the stage's progress;
    skipped when the marker says this very command finished for this export."""
    marker = _marker(ready.files, stage.key)
    if _marker_command(marker) == list(stage.argv):
        ctx.progress(1.0, stage=f"{stage.title} (kept from the last run)")
        return
    marker.unlink(missing_ok=True)
    marker.parent.mkdir(parents=True, exist_ok=True)
    ctx.progress(0.0, stage=stage.title, message="loading the model")
    process = TrainerProcess(stage.argv, cwd=ready.launch.folder, env=musubi_env(ready.launch))
    parser = CacheLogParser()

    def report() -> None:
        done = parser.done()
        ctx.progress(min(0.99, done / expected), stage=stage.title, message=f"{done} of about {expected} batches")

    with open(ready.files.log_file, "a", encoding="utf-8") as log:
        log.write(f"--- {datetime.now().isoformat(timespec='seconds')} {shlex.join(stage.argv)}\n")
        process.start()
        try:
            _follow(process, parser, log, report, ctx.check_canceled)
        except BaseException as exc:
            log.write(f"--- stopping musubi-tuner: {exc}\n")
            process.stop()
            raise
        code = process.wait()
    if code != 0:
        raise JobFailed(_named(f"{stage.title} failed. {explain(code, list(parser.tail))}"))
    atomic_write_text(marker, json.dumps({"argv": list(stage.argv)}) + "\n")
    ctx.progress(1.0, stage=stage.title, message=f"{parser.done()} batches")


def _follow(process: TrainerProcess, parser: CacheLogParser, log: Any, report: Callable[[], None],
            check_canceled: Callable[[], None]) -> None:
    splitter = LineSplitter()
    while True:
        chunk = process.read(READ_WAIT_S)
        lines = splitter.flush() if chunk == EOF else splitter.feed(chunk) if chunk else []
        if lines:
            log.write("\n".join(lines) + "\n")
            log.flush()
            before = parser.done()
            parser.feed_lines(lines)
            if parser.done() != before:
                report()
        if chunk == EOF:
            return
        check_canceled()


def _marker_command(marker: Path) -> list[str] | None:
    try:
        argv = json.loads(marker.read_text(encoding="utf-8"))["argv"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return [str(a) for a in argv] if isinstance(argv, list) else None


def describe_stages(plan: MusubiPlan) -> list[tuple[str, str]]:
    """(title, shell line) of each stage, as the dry run prints them."""
    return [(stage.title, shlex.join(stage.argv)) for stage in plan.stages]
