"""Reading a settings file that may be damaged: truncated, overwritten with zeros, hand-edited.

Settings are flat ``key = value`` scalars under ``[section]`` headers, one a line, so when the
whole file is not valid TOML each line is read on its own: what still reads is kept, and the
keys of the lines that do not are named. Nothing here knows the Settings class.
"""
from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

UNREADABLE = "\ufffd"  # what a byte that is not UTF-8 decodes to
_SECTION = re.compile(r"\s*\[\s*([A-Za-z0-9_-]+)\s*\]\s*(#.*)?")
_KEY = re.compile(r"\s*([A-Za-z0-9_-]+)\s*=")
_CUT = re.compile(r"\s*([A-Za-z0-9_-]+)\s*")


@dataclass(frozen=True, slots=True)
class ParsedText:
    raw: dict[str, object]
    lost: tuple[str, ...] = ()  # "section.key", or "section.? (line N)" when the key is unreadable
    damage: str = ""  # why the file is not whole, "" when it is


@dataclass(slots=True)
class _Salvage:
    raw: dict[str, dict[str, object]] = field(default_factory=dict)
    lost: list[str] = field(default_factory=list)
    section: str = ""  # "?" after a damaged section header


def parse_settings_text(text: str) -> ParsedText:
    if UNREADABLE not in text and "\x00" not in text:
        try:
            return ParsedText(tomllib.loads(text))
        except tomllib.TOMLDecodeError as exc:
            return _salvaged(text, str(exc))
    return _salvaged(text, "it holds bytes that are not text")


def _salvaged(text: str, damage: str) -> ParsedText:
    state = _Salvage()
    for number, line in enumerate(text.splitlines(), start=1):
        _salvage_line(state, number, line)
    return ParsedText(dict(state.raw), tuple(state.lost), damage)


def _salvage_line(state: _Salvage, number: int, line: str) -> None:
    stripped = line.strip()
    if not stripped or stripped.startswith("#"):
        return
    header = _SECTION.fullmatch(line)
    if header is not None or stripped.startswith("["):
        state.section = header.group(1) if header is not None else "?"
        return
    pair = _pair(line)
    if pair is not None and state.section not in ("", "?"):
        state.raw.setdefault(state.section, {}).update(pair)
        return
    section = state.section or "?"
    key = _KEY.match(line)
    cut = _CUT.fullmatch(line)  # a file cut off inside a key's name
    if key is not None and UNREADABLE not in key.group(1):
        state.lost.append(f"{section}.{key.group(1)}")
    elif cut is not None:
        state.lost.append(f"{section}.{cut.group(1)}… (line {number})")
    else:
        state.lost.append(f"{section}.? (line {number})")


def may_name(lost: str, key: str) -> bool:
    """Whether a lost entry could have been ``key``: the key itself, the cut-off start of its
    name, or an unreadable line in its section (or in an unreadable section)."""
    name = lost.split(" (line")[0]
    if name == key:
        return True
    section, _, rest = name.partition(".")
    key_section, _, key_name = key.partition(".")
    if section not in ("?", key_section):
        return False
    return rest == "?" or (rest.endswith("…") and key_name.startswith(rest[:-1]))


def _pair(line: str) -> dict[str, object] | None:
    if UNREADABLE in line or "\x00" in line:
        return None
    try:
        return tomllib.loads(line)
    except tomllib.TOMLDecodeError:
        return None


def shown_lost(lost: str) -> str:
    """A lost entry as a user reads it: the key, or the line that could not be read."""
    name, _, line = lost.partition(" (line ")
    section, _, rest = name.partition(".")
    if rest != "?":
        return lost
    where = f" in [{section}]" if section != "?" else ""
    return f"unreadable line {line.rstrip(')')}{where}" if line else f"an unreadable file{where}"


def keep_broken_copy(path: Path) -> Path | None:
    """Copies a damaged settings file aside before a repaired one is written over it."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    copy_path = path.with_name(f"{path.name}.broken-{stamp}")
    copy_path.write_bytes(data)
    return copy_path
