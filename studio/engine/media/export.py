"""One export, start to end: find FFmpeg, probe, measure loudness, render, probe the result.

Used by the export-video job, the command line (through the job) and the benchmark.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from studio.engine.config import Settings
from studio.engine.errors import InvalidInput
from studio.engine.media.ffmpeg import find_ffmpeg
from studio.engine.media.finishing import ExportPlan, Finish, plan_export
from studio.engine.media.loudness import Measured, loudnorm_report, measured_from
from studio.engine.media.presets import ExportPreset
from studio.engine.media.probe import MediaInfo, probe
from studio.engine.media.render import CancelCheck, RenderProgress, run_ffmpeg
from studio.engine.media.subtitles import read_srt

VIDEO_SUFFIXES = (".mp4", ".m4v", ".mov")
MEASURE_SHARE = 0.2  # of the progress bar, when loudness is measured first

Progress = Callable[[float, str, str], None]  # fraction, stage, message


@dataclass(frozen=True, slots=True)
class ExportResult:
    output: Path
    info: MediaInfo  # the finished file, probed
    plan: ExportPlan
    loudness: dict[str, str] | None  # loudnorm's pass-2 report (normalization_type, output_i…)
    seconds: float

    def meta(self) -> dict[str, Any]:
        """What an Asset records about the export."""
        return {"probe": self.info.as_dict(), "notes": self.plan.notes,
                "duration_s": self.info.duration_s, "loudness": self.loudness,
                "render_s": round(self.seconds, 3)}


def export_video(settings: Settings, inputs: list[Path], preset: ExportPreset, finish: Finish,
                 output: Path, *, on_progress: Progress | None = None,
                 cancel: CancelCheck | None = None) -> ExportResult:
    started = time.monotonic()
    output = Path(output)
    _check_output(inputs, output)
    ffmpeg = find_ffmpeg(settings)
    sources = [probe(path) for path in inputs]
    soundtrack = probe(finish.soundtrack) if finish.soundtrack is not None else None
    if finish.subtitles is not None:
        read_srt(finish.subtitles)  # a broken file is one sentence now, not an FFmpeg error
    plan = plan_export(ffmpeg.exe, sources, preset, finish, output, soundtrack=soundtrack)
    total = plan.timing.output_s
    render_from, measured = 0.0, None
    if plan.measure_argv is not None:
        render_from = MEASURE_SHARE
        pass1 = run_ffmpeg(plan.measure_argv, total_s=total, cancel=cancel,
                           on_progress=_scaled(on_progress, 0.0, MEASURE_SHARE,
                                               "Measuring loudness", total))
        measured = measured_from(loudnorm_report(pass1.stderr))
        plan = plan_export(ffmpeg.exe, sources, preset, finish, output, soundtrack=soundtrack,
                           measured=measured)
    rendered = run_ffmpeg(plan.argv, total_s=total, output=output, cancel=cancel,
                          on_progress=_scaled(on_progress, render_from, 1.0, "Encoding", total))
    return ExportResult(output=output, info=probe(output), plan=plan,
                        loudness=_pass2_report(rendered.stderr, measured),
                        seconds=time.monotonic() - started)


def _check_output(inputs: list[Path], output: Path) -> None:
    if output.suffix.lower() not in VIDEO_SUFFIXES:
        raise InvalidInput(f"Export to an .mp4 file, not '{output.name}'.")
    if output.is_dir():
        raise InvalidInput(f"{output} is a folder; give a file name ending in .mp4.")
    resolved = output.resolve()
    if any(Path(p).resolve() == resolved for p in inputs):
        raise InvalidInput("The export would overwrite its own input; choose another file name.")


def _pass2_report(stderr: str, measured: Measured | None) -> dict[str, str] | None:
    if measured is None or measured.silent:
        return None
    return loudnorm_report(stderr)


def _scaled(on_progress: Progress | None, start: float, end: float, stage: str,
            total: float) -> Callable[[RenderProgress], None] | None:
    if on_progress is None:
        return None
    report = on_progress

    def forward(step: RenderProgress) -> None:
        speed = f", {step.speed:.1f}x" if step.speed else ""
        report(start + (end - start) * step.fraction, stage,
               f"{min(step.out_time_s, total):.1f} s of {total:.1f} s{speed}")
    return forward
