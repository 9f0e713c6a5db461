"""Two-pass loudness normalisation with FFmpeg's loudnorm, and an EBU R128 measurement.

Pass 1 measures the audio as it will be mixed; pass 2 applies loudnorm with those figures in
linear mode (one gain for the whole clip, no pumping). loudnorm falls back to dynamic mode by
itself when linear cannot reach the target without clipping the true peak; pass 2's own report
says which it used (``normalization_type``), and the studio records it.
"""
from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from pathlib import Path

from studio.engine.errors import StudioError

TRUE_PEAK = -1.5
LRA = 11.0
_JSON_AFTER = re.compile(r"\[Parsed_loudnorm_\d+ @ [^\]]*\]\s*(\{.*?\})", re.S)
_INTEGRATED = re.compile(r"Integrated loudness:\s*I:\s*(-?[\d.]+|-inf)\s*LUFS", re.S)


class LoudnessError(StudioError):
    """FFmpeg's loudness report could not be read."""


@dataclass(frozen=True, slots=True)
class Measured:
    """Pass 1's figures, as loudnorm wants them back in pass 2."""

    input_i: float
    input_tp: float
    input_lra: float
    input_thresh: float
    target_offset: float

    @property
    def silent(self) -> bool:
        """Nothing to normalise: silence reads as -inf (or -70, loudnorm's floor)."""
        return not math.isfinite(self.input_i) or self.input_i <= -70.0


def measure_filter(target: float) -> str:
    return f"loudnorm=I={target:g}:TP={TRUE_PEAK:g}:LRA={LRA:g}:print_format=json"


def apply_filter(target: float, measured: Measured) -> str:
    return (f"loudnorm=I={target:g}:TP={TRUE_PEAK:g}:LRA={LRA:g}"
            f":measured_I={measured.input_i:g}:measured_TP={measured.input_tp:g}"
            f":measured_LRA={measured.input_lra:g}:measured_thresh={measured.input_thresh:g}"
            f":offset={measured.target_offset:g}:linear=true:print_format=json")


def loudnorm_report(stderr: str) -> dict[str, str]:
    """The JSON loudnorm prints on stderr after its ``[Parsed_loudnorm_0 @ …]`` line."""
    found = _JSON_AFTER.findall(stderr)
    if not found:
        raise LoudnessError("FFmpeg printed no loudness report (is the loudnorm filter there?).")
    try:
        report = json.loads(found[-1])
    except json.JSONDecodeError as exc:
        raise LoudnessError(f"FFmpeg's loudness report cannot be read: {exc}") from None
    return {str(k): str(v) for k, v in report.items()}


def measured_from(report: dict[str, str]) -> Measured:
    try:
        return Measured(*(_float(report[key]) for key in
                          ("input_i", "input_tp", "input_lra", "input_thresh", "target_offset")))
    except KeyError as exc:
        raise LoudnessError(f"FFmpeg's loudness report has no {exc}.") from None


def integrated_loudness(stderr: str) -> float:
    """The integrated loudness (LUFS) from the summary the ``ebur128`` filter prints."""
    found = _INTEGRATED.findall(stderr)
    if not found:
        raise LoudnessError("FFmpeg printed no EBU R128 summary.")
    return _float(found[-1])


def ebur128_argv(exe: str, path: Path) -> list[str]:
    """A command that prints ``path``'s EBU R128 summary on stderr."""
    return [exe, "-hide_banner", "-nostdin", "-i", str(path), "-map", "0:a:0",
            "-af", "ebur128=framelog=quiet", "-f", "null", "-"]


def _float(text: str) -> float:
    text = str(text).strip()
    if text in ("-inf", "inf", "nan", "-nan"):
        return float(text.lstrip("-")) * (-1 if text.startswith("-") else 1)
    return float(text)
