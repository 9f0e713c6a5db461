"""A caption file's bytes as caption text: cleaned where it must be, and every change said.

A caption goes into kohya's training and into the grid; NUL and other control characters do no
good in either (and can hide text in a terminal), so they are taken out, with a note in the
import report. A caption file over the size limit is not cut silently: it is left out, and the
report says so, since a cut caption would train on half a sentence.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

MAX_CAPTION_BYTES = 64 * 2**10

# Controls other than tab and line breaks, DEL, C1 controls, and the bidirectional overrides.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


@dataclass(frozen=True, slots=True)
class CaptionText:
    text: str
    note: str = ""  # what was changed or left out, for the import report; empty: nothing


def caption_from_bytes(data: bytes, *, size: int | None = None) -> CaptionText:
    """``data`` is what was read, at most ``MAX_CAPTION_BYTES`` + 1; ``size`` the file's size
    where known (a file larger than what was read is over the limit too)."""
    total = max(len(data), size or 0)
    if total > MAX_CAPTION_BYTES:
        return CaptionText("", f"caption left out: {_kb(total)} is more than the "
                               f"{MAX_CAPTION_BYTES // 1024} KB a caption may have")
    notes = []
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("utf-8-sig", errors="replace")
        notes.append("bytes that are not UTF-8 were replaced by \ufffd")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    found = _CONTROL.findall(text)
    if found:
        text = _CONTROL.sub("", text)
        kinds = sorted({_name(c) for c in found})
        notes.append(f"{len(found)} control character{'s' if len(found) > 1 else ''} "
                     f"({', '.join(kinds[:5])}{', …' if len(kinds) > 5 else ''}) removed")
    return CaptionText(text.strip(), "caption cleaned: " + "; ".join(notes) if notes else "")


def _name(char: str) -> str:
    code = ord(char)
    return {0: "NUL", 7: "BEL", 8: "BS", 0x1B: "ESC", 0x7F: "DEL"}.get(code) or f"U+{code:04X}"


def _kb(size: int) -> str:
    return f"{size / 1024:.0f} KB" if size < 2**20 else f"{size / 2**20:.1f} MB"
