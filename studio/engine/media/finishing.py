"""The finishing plan: what a creator asked for, as one FFmpeg command.

``plan_export`` is pure: probed sources, a preset and the user's choices in, an argument list
out. Each step is optional: reframing (crop to fill around a focus point, or fit over a blurred
copy), frame rate, a length limit (trim or refuse) and a minimum (the last frame held), burned-in
subtitles, loudness normalisation (pass 2's filter), a silent track where the platform wants
sound, a still image plus a soundtrack, and several clips joined in order.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

from studio.engine.errors import InvalidInput
from studio.engine.media.framing import fill_filter
from studio.engine.media.loudness import Measured, apply_filter, measure_filter
from studio.engine.media.presets import X264_SPEEDS, ExportPreset
from studio.engine.media.probe import MediaInfo
from studio.engine.media.subtitles import SubtitleStyle, subtitles_filter

FITS = ("crop", "blur")
OVER_LENGTH = ("trim", "refuse")
DEFAULT_STILL_S = 5.0
BLUR_SCALE = 8  # the background is blurred at 1/8 size: the same look for a fraction of the work


@dataclass(frozen=True, slots=True)
class Finish:
    """The user's choices on top of a preset; the defaults are what a creator usually wants."""

    fit: str = "crop"  # crop to fill, or blur: fit whole over a blurred copy
    focus: tuple[float, float] = (0.5, 0.5)  # where the crop centres, as fractions of the frame
    over_length: str = "trim"  # a clip longer than the preset allows: trim it, or refuse
    subtitles: Path | None = None  # an .srt to burn in
    style: SubtitleStyle | None = None  # None: the preset's look
    loudness: float | None = -14.0  # LUFS target; None leaves the sound as it is
    soundtrack: Path | None = None  # replaces the clips' sound (a still image needs one)
    still_s: float = DEFAULT_STILL_S  # how long a still image shows without a soundtrack
    speed: str | None = None  # x264 -preset; None: the preset's

    def __post_init__(self) -> None:
        if self.fit not in FITS:
            raise InvalidInput(f"fit must be one of {', '.join(FITS)}, not '{self.fit}'.")
        if self.over_length not in OVER_LENGTH:
            raise InvalidInput(f"Over-long clips can be: {', '.join(OVER_LENGTH)}; "
                               f"not '{self.over_length}'.")
        if not all(0.0 <= v <= 1.0 for v in self.focus):
            raise InvalidInput("The focus point must lie inside the frame (0 to 1 each way).")
        if self.loudness is not None and not -40.0 <= self.loudness <= -5.0:
            raise InvalidInput(f"The loudness target must be from -40 to -5 LUFS, "
                               f"not {self.loudness:g}.")
        if self.speed is not None and self.speed not in X264_SPEEDS:
            raise InvalidInput(f"speed must be one of {', '.join(X264_SPEEDS)}.")
        if not 0.1 <= self.still_s <= 600:
            raise InvalidInput("A still image shows for 0.1 s to 10 min.")


@dataclass(frozen=True, slots=True)
class Timing:
    source_s: float  # the sources' length, joined
    output_s: float  # after the preset's limits
    trimmed: bool
    held_s: float  # the last frame held this long to reach the preset's minimum


@dataclass(frozen=True, slots=True)
class ExportPlan:
    argv: list[str]  # the render; its last element is the output path
    measure_argv: list[str] | None  # loudness pass 1, when there is sound to normalise
    timing: Timing
    has_audio: bool
    notes: list[str] = field(default_factory=list)  # what was done the user did not ask for


def timing_for(sources: list[MediaInfo], preset: ExportPreset, finish: Finish,
               soundtrack: MediaInfo | None) -> Timing:
    """How long the result runs; refuses an over-long clip when the user chose that."""
    total = sum(_length(s, finish, soundtrack, len(sources)) for s in sources)
    if total <= 0:
        raise InvalidInput("The clip has no length.")
    output, trimmed = total, False
    if total > preset.max_duration_s + 0.01:
        if finish.over_length == "refuse":
            raise InvalidInput(f"The clip runs {total:.1f} s; {preset.title} takes at most "
                               f"{preset.max_duration_s:g} s. Trim it, or choose to trim "
                               "on export.")
        output, trimmed = preset.max_duration_s, True
    held = max(0.0, preset.min_duration_s - output)
    return Timing(round(total, 3), round(output + held, 3), trimmed, round(held, 3))


def plan_export(exe: str, sources: list[MediaInfo], preset: ExportPreset, finish: Finish,
                output: Path, *, soundtrack: MediaInfo | None = None,
                measured: Measured | None = None) -> ExportPlan:
    if not sources:
        raise InvalidInput("Nothing to export: give at least one clip or image.")
    for source in sources:
        if source.video is None:
            raise InvalidInput(f"{Path(source.path).name} has no picture to export.")
    if soundtrack is not None and soundtrack.audio is None:
        raise InvalidInput(f"{Path(soundtrack.path).name} has no sound.")
    timing = timing_for(sources, preset, finish, soundtrack)
    lengths = [_length(s, finish, soundtrack, len(sources)) for s in sources]
    inputs = _inputs(sources, lengths, preset, soundtrack)
    has_audio = soundtrack is not None or preset.audio_required or any(s.audio for s in sources)
    video = _video_graph(sources, preset, finish, timing)
    audio = _audio_graph(sources, lengths, preset, soundtrack, timing) if has_audio else []
    normalise = has_audio and finish.loudness is not None and (
        soundtrack is not None or any(s.audio for s in sources))
    measure_argv = None
    if normalise and measured is None:
        measure_argv = [exe, "-hide_banner", "-nostdin", *inputs, "-filter_complex",
                        ";".join([*audio, f"[aout]{measure_filter(finish.loudness or -14)}[m]"]),
                        "-map", "[m]", "-t", f"{timing.output_s:.3f}", "-progress", "pipe:1", "-nostats",
                        "-f", "null", "-"]
    final_audio = _finish_audio(finish, preset, timing, measured if normalise else None)
    graph = ";".join([*video, *audio, *([f"[aout]{final_audio}[afinal]"] if has_audio else [])])
    argv = [exe, "-hide_banner", "-nostdin", "-y", *inputs, "-filter_complex", graph,
            "-map", "[vout]", *(["-map", "[afinal]"] if has_audio else []),
            *_encoding(preset, finish, has_audio), "-t", f"{timing.output_s:.3f}",
            "-progress", "pipe:1", "-nostats", str(output)]
    silent_added = has_audio and soundtrack is None and not any(s.audio for s in sources)
    notes = _notes(preset, timing, silent_added=silent_added)
    return ExportPlan(argv, measure_argv, timing, has_audio, notes)


def _length(source: MediaInfo, finish: Finish, soundtrack: MediaInfo | None, count: int) -> float:
    if not source.is_still:
        return source.duration_s
    if soundtrack is not None and count == 1:  # a still plus a song: as long as the song
        return soundtrack.duration_s
    return finish.still_s


def _inputs(sources: list[MediaInfo], lengths: list[float], preset: ExportPreset,
            soundtrack: MediaInfo | None) -> list[str]:
    args: list[str] = []
    for source, length in zip(sources, lengths, strict=True):
        if source.is_still:
            args += ["-loop", "1", "-framerate", f"{preset.fps:g}", "-t", f"{length:.3f}"]
        args += ["-i", source.path]
    if soundtrack is not None:
        args += ["-i", soundtrack.path]
    return args


def _video_graph(sources: list[MediaInfo], preset: ExportPreset, finish: Finish,
                 timing: Timing) -> list[str]:
    chains = [f"[{i}:v:0]{_reframe(preset, finish, i)},fps={preset.fps:g},format=yuv420p,"
              f"setpts=PTS-STARTPTS[v{i}]" for i in range(len(sources))]
    joined = "[v0]" if len(sources) == 1 else "[vj]"
    if len(sources) > 1:
        chains.append("".join(f"[v{i}]" for i in range(len(sources)))
                      + f"concat=n={len(sources)}:v=1:a=0[vj]")
    post = [f"tpad=stop_mode=clone:stop_duration={timing.held_s:.3f}"] if timing.held_s else []
    if finish.subtitles is not None:
        style = finish.style or SubtitleStyle.for_preset(preset)
        post.append(subtitles_filter(finish.subtitles, style, preset))
    chains.append(f"{joined}{','.join(post) or 'null'}[vout]")
    return chains


def _reframe(preset: ExportPreset, finish: Finish, index: int) -> str:
    """Fills the preset's frame: crop around the focus point, or fit over a blurred copy."""
    w, h = preset.width, preset.height
    if finish.fit == "crop":
        return f"{fill_filter(width=w, height=h, focus=finish.focus)},setsar=1"
    bw, bh = _even(w / BLUR_SCALE), _even(h / BLUR_SCALE)
    radius = max(1, min(8, min(bw, bh) // 4 - 1))  # boxblur refuses a radius past half the chroma
    return (f"split=2[bg{index}][fg{index}];"
            f"[bg{index}]scale={bw}:{bh}:force_original_aspect_ratio=increase,crop={bw}:{bh},"
            f"boxblur={radius}:2,scale={w}:{h}[bb{index}];"
            f"[fg{index}]scale={w}:{h}:force_original_aspect_ratio=decrease[ff{index}];"
            f"[bb{index}][ff{index}]overlay=(W-w)/2:(H-h)/2,setsar=1")


def _audio_graph(sources: list[MediaInfo], lengths: list[float], preset: ExportPreset,
                 soundtrack: MediaInfo | None, timing: Timing) -> list[str]:
    """Every source's sound as 48 kHz stereo, silence for a source without sound, joined."""
    layout = "stereo" if preset.audio_channels == 2 else "mono"
    fmt = f"aresample={preset.audio_rate},aformat=channel_layouts={layout}"
    if soundtrack is not None:
        return [f"[{len(sources)}:a:0]{fmt},atrim=duration={timing.source_s:.3f}[aout]"]
    chains = []
    for i, (source, length) in enumerate(zip(sources, lengths, strict=True)):
        if source.audio is not None:
            chains.append(f"[{i}:a:0]{fmt},apad,atrim=duration={length:.3f}[a{i}]")
        else:
            chains.append(f"anullsrc=r={preset.audio_rate}:cl={layout},"
                          f"atrim=duration={length:.3f}[a{i}]")
    if len(sources) == 1:
        chains[-1] = chains[-1].removesuffix("[a0]") + "[aout]"
    else:
        chains.append("".join(f"[a{i}]" for i in range(len(sources)))
                      + f"concat=n={len(sources)}:v=0:a=1[aout]")
    return chains


def _finish_audio(finish: Finish, preset: ExportPreset, timing: Timing,
                  measured: Measured | None) -> str:
    steps = []
    if measured is not None and not measured.silent and finish.loudness is not None:
        steps.append(apply_filter(finish.loudness, measured))
    steps.append(f"aresample={preset.audio_rate}")  # loudnorm works at 192 kHz inside
    if timing.held_s:
        steps.append(f"apad=whole_dur={timing.output_s:.3f}")
    return ",".join(steps)


def _encoding(preset: ExportPreset, finish: Finish, has_audio: bool) -> list[str]:
    gop = max(1, round(preset.fps * 2))  # a keyframe every 2 s: quick seeking in players
    args = ["-c:v", "libx264", "-preset", finish.speed or preset.speed, "-profile:v", "high",
            "-pix_fmt", "yuv420p", "-crf", str(preset.crf),
            "-maxrate", f"{preset.maxrate_kbps}k", "-bufsize", f"{preset.bufsize_kbps}k",
            "-g", str(gop), "-movflags", "+faststart", "-map_metadata", "-1"]
    if has_audio:
        args += ["-c:a", "aac", "-b:a", f"{preset.audio_bitrate_kbps}k",
                 "-ar", str(preset.audio_rate), "-ac", str(preset.audio_channels)]
    return args


def _notes(preset: ExportPreset, timing: Timing, *, silent_added: bool) -> list[str]:
    notes = []
    if timing.trimmed:
        notes.append(f"trimmed to {preset.max_duration_s:g} s, the most {preset.title} takes")
    if timing.held_s:
        notes.append(f"last frame held {timing.held_s:.1f} s to reach {preset.title}'s "
                     f"{preset.min_duration_s:g} s minimum")
    if silent_added:
        notes.append("a silent sound track was added")
    return notes


def _even(value: float) -> int:
    return max(2, math.floor(value / 2) * 2)
