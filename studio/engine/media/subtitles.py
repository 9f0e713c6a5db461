"""Subtitles: read and write .srt, make timed cues from a post's caption, and the filter that
burns them in with a style placed inside the platform's safe area.

The ``subtitles`` filter (libass) renders SRT as an ASS script 384×288 units large; the style
sets ``PlayResX``/``PlayResY`` to the output frame, so sizes and margins are output pixels.
The file path goes through two levels of escaping (option value, then filter graph), so any
name works: spaces, quotes, colons, commas, brackets, non-ASCII.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import srt

from studio.engine.errors import InvalidInput
from studio.engine.fsutil import atomic_write_text
from studio.engine.media.presets import POSITIONS, ExportPreset

MIN_CUE_S = 0.8
_ALIGNMENT = {"bottom": 2, "middle": 5, "top": 8}  # ASS numpad positions, centred
_SENTENCE = re.compile(r"(?<=[.!?…])\s+")
_HASHTAGS = re.compile(r"(?:^|\s)#\w+")
_COLOR = re.compile(r"^#?([0-9a-fA-F]{6})$")


@dataclass(frozen=True, slots=True)
class Cue:
    start_s: float
    end_s: float
    text: str


@dataclass(frozen=True, slots=True)
class SubtitleStyle:
    font: str = "DejaVu Sans"
    size_px: int = 64
    outline_px: int = 4
    position: str = "bottom"  # bottom, middle or top
    color: str = "#FFFFFF"
    outline_color: str = "#000000"
    bold: bool = True

    @classmethod
    def for_preset(cls, preset: ExportPreset) -> SubtitleStyle:
        d = preset.subtitles
        return cls(font=d.font, size_px=d.size_px, outline_px=d.outline_px, position=d.position)


def read_srt(path: Path) -> list[Cue]:
    """The cues of an .srt file; a file that is not SubRip is InvalidInput naming it."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"The subtitles {Path(path).name} cannot be read: {exc}") from None
    return parse_srt(text, Path(path).name)


def parse_srt(text: str, name: str = "The subtitles") -> list[Cue]:
    try:
        subs = list(srt.parse(text))
    except srt.SRTParseError as exc:
        raise InvalidInput(f"{name} is not a valid .srt file: {exc}") from None
    return [Cue(s.start.total_seconds(), s.end.total_seconds(), s.content.strip()) for s in subs]


def compose_srt(cues: list[Cue]) -> str:
    check_cues(cues)
    return str(srt.compose([srt.Subtitle(index=i, start=timedelta(seconds=c.start_s),
                                     end=timedelta(seconds=c.end_s), content=c.text)
                            for i, c in enumerate(cues, start=1)]))


def write_srt(cues: list[Cue], path: Path) -> Path:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(Path(path), compose_srt(cues))
    return Path(path)


def check_cues(cues: list[Cue]) -> None:
    """Each cue starts before it ends; an editor's mistake is named by its number."""
    for number, cue in enumerate(cues, start=1):
        if cue.start_s < 0 or cue.end_s <= cue.start_s:
            raise InvalidInput(f"Subtitle {number} must end after it starts "
                               f"({cue.start_s:.2f} s to {cue.end_s:.2f} s).")
        if not cue.text.strip():
            raise InvalidInput(f"Subtitle {number} has no text.")


def cues_from_caption(caption: str, duration_s: float, *, max_chars: int = 42,
                      start_s: float = 0.0) -> list[Cue]:
    """Timed cues from a post's caption: hashtags dropped, sentences cut into short lines,
    each shown for a time in proportion to its length (at least MIN_CUE_S)."""
    text = " ".join(_HASHTAGS.sub(" ", caption).split())
    if not text:
        raise InvalidInput("The caption has no words to turn into subtitles.")
    if duration_s <= start_s:
        raise InvalidInput("The clip is too short for subtitles.")
    chunks = [c for s in _SENTENCE.split(text) for c in _wrap(s, max_chars)]
    span = duration_s - start_s
    most = max(1, int(span // MIN_CUE_S))
    if len(chunks) > most:  # too many for the clip: merge neighbours until they fit
        size = -(-len(chunks) // most)
        chunks = [" ".join(chunks[i:i + size]) for i in range(0, len(chunks), size)]
    weights = [len(c) + 8 for c in chunks]  # a short line still needs time to be read
    total = sum(weights)
    cues, at = [], start_s
    for chunk, weight in zip(chunks, weights, strict=True):
        end = at + span * weight / total
        cues.append(Cue(round(at, 3), round(end, 3), chunk))
        at = end
    return cues


def _wrap(sentence: str, max_chars: int) -> list[str]:
    lines: list[str] = []
    for word in sentence.split():
        if lines and len(lines[-1]) + 1 + len(word) <= max_chars:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines


def force_style(style: SubtitleStyle, preset: ExportPreset) -> str:
    """libass style overrides in output pixels, kept inside the platform's safe area."""
    if style.position not in POSITIONS:
        raise InvalidInput(f"The subtitle position must be one of {', '.join(POSITIONS)}.")
    area, width, height = preset.safe_area, preset.width, preset.height
    vertical = {"bottom": area.bottom, "top": area.top, "middle": 0.0}[style.position]
    fields = {
        "PlayResX": width, "PlayResY": height, "FontName": style.font,
        "FontSize": style.size_px, "Bold": -1 if style.bold else 0,
        "PrimaryColour": _ass_color(style.color), "OutlineColour": _ass_color(style.outline_color),
        "BorderStyle": 1, "Outline": style.outline_px, "Shadow": 0,
        "Alignment": _ALIGNMENT[style.position],
        "MarginL": round(area.left * width) + 16, "MarginR": round(area.right * width) + 16,
        "MarginV": round(vertical * height) + 16,
    }
    return ",".join(f"{key}={value}" for key, value in fields.items())


def subtitles_filter(path: Path, style: SubtitleStyle, preset: ExportPreset) -> str:
    """The whole ``subtitles=…`` filter, escaped for a filter graph."""
    options = (f"filename={escape_option(str(path))}"
               f":force_style={escape_option(force_style(style, preset))}")
    return "subtitles=" + escape_graph(options)


def escape_option(value: str) -> str:
    """First level: inside one filter's option value."""
    return "".join("\\" + ch if ch in "\\:'" else ch for ch in value)


def escape_graph(value: str) -> str:
    """Second level: inside the filter graph description."""
    return "".join("\\" + ch if ch in "\\'[],;" else ch for ch in value)


def _ass_color(color: str) -> str:
    """#RRGGBB as ASS's &H00BBGGRR (alpha first, blue before red)."""
    found = _COLOR.match(color.strip())
    if not found:
        raise InvalidInput(f"'{color}' is not a colour; write it as #RRGGBB.")
    rgb = found.group(1).upper()
    return f"&H00{rgb[4:6]}{rgb[2:4]}{rgb[0:2]}"
