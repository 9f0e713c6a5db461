"""Tags inside a caption, and the batch operations on them as plain values.

A caption is one line of text; its tags are the pieces between separators (", " by default).
Every operation is a pure function of (caption, separator, trigger) so it can be tested,
previewed and recorded for undo without touching the database.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from studio.engine.errors import InvalidInput


def split_tags(caption: str, separator: str = ",") -> list[str]:
    """The non-empty tags of a caption, with surrounding and repeated inner spaces removed."""
    sep = separator.strip() or separator
    parts = caption.split(sep) if sep.strip() else caption.split()
    return [" ".join(part.split()) for part in parts if part.strip()]


def join_tags(tags: list[str], separator: str = ",") -> str:
    """", "-joined for ","; a whitespace separator joins with itself; others get a space after."""
    if not separator.strip():
        return separator.join(tags)
    return f"{separator.strip()} ".join(tags)


def has_tag(caption: str, tag: str, separator: str = ",") -> bool:
    return _norm(tag) in split_tags(caption, separator)


def trigger_present(caption: str, trigger: str) -> bool:
    """The trigger as a whole word anywhere: "photo of mia_v" counts as much as "mia_v, photo"."""
    trigger = _norm(trigger)
    return bool(trigger) and re.search(rf"(?<!\w){re.escape(trigger)}(?!\w)", caption) is not None


def _norm(tag: str) -> str:
    return " ".join(tag.split())


def _tuple(values: str | Iterable[object]) -> tuple[str, ...]:
    if isinstance(values, str):
        values = [values]
    return tuple(t for t in (_norm(str(v)) for v in values) if t)


@dataclass(frozen=True, slots=True)
class AddTags:
    tags: tuple[str, ...]
    at_front: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "tags", _tuple(self.tags))

    @property
    def label(self) -> str:
        return f"Add {', '.join(self.tags)}"


@dataclass(frozen=True, slots=True)
class RemoveTags:
    tags: tuple[str, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "tags", _tuple(self.tags))

    @property
    def label(self) -> str:
        return f"Remove {', '.join(self.tags)}"


@dataclass(frozen=True, slots=True)
class RenameTag:
    old: str
    new: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "old", _norm(self.old))
        object.__setattr__(self, "new", _norm(self.new))

    @property
    def label(self) -> str:
        return f"Rename {self.old} → {self.new}"


@dataclass(frozen=True, slots=True)
class ReplaceText:
    pattern: str
    replacement: str
    regex: bool = False

    def __post_init__(self) -> None:
        if not self.pattern:
            raise InvalidInput("Replace needs something to look for.")
        if self.regex:
            try:
                re.compile(self.pattern)
            except re.error as exc:
                raise InvalidInput(f"'{self.pattern}' is not a valid regular expression: {exc}.") from exc

    @property
    def label(self) -> str:
        return f"Replace {self.pattern} → {self.replacement}"


@dataclass(frozen=True, slots=True)
class MoveToFront:
    tags: tuple[str, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "tags", _tuple(self.tags))

    @property
    def label(self) -> str:
        return f"Move {', '.join(self.tags)} to front"


@dataclass(frozen=True, slots=True)
class SortTags:
    @property
    def label(self) -> str:
        return "Sort tags"


@dataclass(frozen=True, slots=True)
class DedupeTags:
    @property
    def label(self) -> str:
        return "Remove duplicate tags"


@dataclass(frozen=True, slots=True)
class InsertTrigger:
    trigger: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "trigger", _norm(self.trigger))
        if not self.trigger:
            raise InvalidInput("The influencer has no trigger word to insert; set one first.")

    @property
    def label(self) -> str:
        return f"Insert trigger {self.trigger}"


TagOp = AddTags | RemoveTags | RenameTag | ReplaceText | MoveToFront | SortTags | DedupeTags | InsertTrigger


def transform(op: TagOp, caption: str, separator: str = ",", trigger: str = "") -> str:
    """The caption after ``op``; exactly ``caption`` when the op changes no tag, so formatting of
    untouched captions is never rewritten (and they are not recorded as changed)."""
    if isinstance(op, ReplaceText):
        if op.regex:
            return re.sub(op.pattern, op.replacement, caption)
        return caption.replace(op.pattern, op.replacement)
    before = split_tags(caption, separator)
    after = _tag_list(op, before, _norm(trigger))
    return caption if after == before else join_tags(after, separator)


def _tag_list(op: TagOp, tags: list[str], trigger: str) -> list[str]:
    if isinstance(op, AddTags):
        missing = [t for t in dict.fromkeys(op.tags) if t not in tags]
        return missing + tags if op.at_front else tags + missing
    if isinstance(op, RemoveTags):
        return [t for t in tags if t not in op.tags]
    if isinstance(op, RenameTag):
        renamed = [op.new if t == op.old else t for t in tags]
        return _dedupe_one(renamed, op.new) if op.old in tags else tags
    if isinstance(op, MoveToFront):
        front = [t for t in dict.fromkeys(op.tags) if t in tags]
        return front + [t for t in tags if t not in front]
    if isinstance(op, SortTags):
        # The trigger stays first: kohya's keep_tokens=1 relies on it.
        head = [trigger] if trigger and tags[:1] == [trigger] else []
        return head + sorted(tags[len(head):], key=lambda t: (t.casefold(), t))
    if isinstance(op, DedupeTags):
        return list(dict.fromkeys(tags))
    if isinstance(op, InsertTrigger):
        present = any(trigger_present(t, op.trigger) for t in tags)
        return tags if present else [op.trigger, *tags]
    raise InvalidInput(f"Unknown caption operation {op!r}.")


def _dedupe_one(tags: list[str], tag: str) -> list[str]:
    """Keeps the first ``tag`` only, so a rename onto an existing tag does not double it."""
    seen = False
    kept = []
    for t in tags:
        if t == tag:
            if seen:
                continue
            seen = True
        kept.append(t)
    return kept
