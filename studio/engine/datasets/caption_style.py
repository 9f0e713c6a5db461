"""Caption styles per model family: tag lists for SD 1.5/SDXL, natural sentences for the rest.

SD 1.5 and SDXL read captions through CLIP, trained on short alt texts, and their LoRAs are
usually trained on comma-separated tags (sd-scripts shuffles them, keeping the trigger first).
FLUX.1, SD 3.5, Qwen-Image and Wan 2.2 read them through T5/umT5 or Qwen2.5-VL, which were
trained on prose, so their LoRAs want natural sentences. Converting never invents content:
tags become one readable sentence made of those same tags, and sentences become tags only by
picking out tags the dataset already uses; anything else is left as it is, with the reason.
"""
from __future__ import annotations

import re
import uuid
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select

from studio.engine.datasets.tags import split_tags
from studio.engine.db.models import Dataset, Job
from studio.engine.errors import InvalidInput
from studio.engine.parts import StudioParts

TAGS = "tags"
SENTENCES = "sentences"
STYLES = (TAGS, SENTENCES)
# Keyed by the family names of training/config.py FAMILIES; a test keeps the two in step.
FAMILY_STYLES = {"sd15": TAGS, "sdxl": TAGS, "flux1": SENTENCES, "sd35": SENTENCES,
                 "qwen_image": SENTENCES, "wan22_14b": SENTENCES, "wan22_5b": SENTENCES}
TRAINING_JOB_TYPE = "train-lora"  # training/jobs.py JOB_TYPE; its payload's config names the family
RECENT_TRAININGS = 200  # how far back the last training of an influencer is looked for
_SENTENCE_END = re.compile(r"[.!?](\s|$)")
TAG_MAX_WORDS = 5  # a piece longer than this reads as a phrase of prose, not a tag


@dataclass(frozen=True, slots=True)
class StyledCaption:
    text: str
    changed: bool
    note: str  # what was done, or why it was left as it is


def style_for_family(family: str) -> str:
    if family not in FAMILY_STYLES:
        raise InvalidInput(f"Unknown model family '{family}'; one of {', '.join(FAMILY_STYLES)}.")
    return FAMILY_STYLES[family]


def check_style(style: str) -> str:
    if style not in STYLES:
        raise InvalidInput(f"Unknown caption style '{style}'; use 'tags' or 'sentences'.")
    return style


def last_training_family(studio: StudioParts, workspace_id: uuid.UUID,
                         influencer_id: uuid.UUID) -> str | None:
    """The family of the influencer's newest training job, or None where it has none."""
    with studio.db.session() as session:
        payloads = session.scalars(
            select(Job.payload).where(Job.workspace_id == workspace_id, Job.type == TRAINING_JOB_TYPE)
            .order_by(Job.created_at.desc()).limit(RECENT_TRAININGS)).all()
    for payload in payloads:
        if str(payload.get("influencer_id")) == str(influencer_id):
            family = (payload.get("config") or {}).get("family")
            return family if family in FAMILY_STYLES else None
    return None


def default_style(studio: StudioParts, dataset: Dataset) -> str:
    """The style of the family the influencer last trained, tags (SD) before any training."""
    family = last_training_family(studio, dataset.workspace_id, dataset.influencer_id)
    return FAMILY_STYLES[family] if family else TAGS


def detect_style(caption: str, separator: str = ",") -> str:
    """Sentences when any piece between separators is long or ends like a sentence."""
    pieces = split_tags(caption, separator)
    if any(len(p.split()) > TAG_MAX_WORDS or _SENTENCE_END.search(p) for p in pieces):
        return SENTENCES
    return TAGS


def restyle(caption: str, style: str, *, trigger: str, separator: str = ",",
            vocabulary: Iterable[str] = ()) -> StyledCaption:
    """``caption`` in ``style``; ``vocabulary`` is the dataset's tags (for sentences → tags)."""
    check_style(style)
    text = " ".join(caption.split())
    if not text:
        return StyledCaption("", False, "empty")
    if detect_style(text, separator) == style:
        return StyledCaption(text, False, f"already {style}")
    if style == SENTENCES:
        return StyledCaption(tags_to_sentence(text, trigger=trigger, separator=separator), True,
                             "joined from tags")
    vocabulary = list(vocabulary)
    if not vocabulary:
        return StyledCaption(text, False, "left as sentences: the dataset has no tags to pick")
    found = sentence_to_tags(text, trigger=trigger, vocabulary=vocabulary)
    if not [t for t in found if t.casefold() != trigger.casefold()]:
        return StyledCaption(text, False, "left as sentences: none of the dataset's tags is in them")
    joiner = f"{separator.strip()} " if separator.strip() else separator
    return StyledCaption(joiner.join(found), True, "tags picked from the sentences")


def tags_to_sentence(caption: str, *, trigger: str, separator: str = ",") -> str:
    """``mia_v, red dress, looking_at_viewer`` → ``mia_v, red dress and looking at viewer.``:
    the same tags as one line of text, the trigger first and kept as written."""
    tags = [_readable(t, trigger) for t in split_tags(caption, separator)]
    tags = _trigger_first(tags, trigger)
    if len(tags) > 1:
        tags = [*tags[:-2], f"{tags[-2]} and {tags[-1]}"]
    return ", ".join(tags).rstrip(".,;: ") + "."


def sentence_to_tags(caption: str, *, trigger: str, vocabulary: Iterable[str]) -> list[str]:
    """The dataset's tags that the text names, in the order it names them, the trigger first."""
    low = caption.casefold()
    hits: list[tuple[int, str]] = []
    for tag in dict.fromkeys(" ".join(t.split()) for t in vocabulary):
        at = _find_phrase(low, tag.casefold())
        if tag and at >= 0:
            hits.append((at, tag))
    tags = [tag for _, tag in sorted(hits)]
    if trigger and _find_phrase(low, trigger.casefold()) >= 0:
        tags = [trigger] + [t for t in tags if t.casefold() != trigger.casefold()]
    return tags


def dataset_vocabulary(captions: Iterable[str], extra: Iterable[object] = (), *,
                       separator: str = ",") -> list[str]:
    """Tags of the captions written as tag lists, plus the images' own tag lists."""
    counts: Counter[str] = Counter()
    for caption in captions:
        if caption.strip() and detect_style(caption, separator) == TAGS:
            counts.update(split_tags(caption, separator))
    counts.update(str(t) for t in extra if isinstance(t, str) and t.strip())
    return [tag for tag, _ in counts.most_common()]


def summary(notes: Iterable[str], style: str) -> str:
    """One line for the export report: ``captions as sentences: 3 joined from tags, 1 already…``."""
    counts = Counter(n for n in notes if n != "empty")
    if not counts:
        return f"captions as {style}: no captions"
    parts = [f"{n} {note}" for note, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]
    return f"captions as {style}: " + ", ".join(parts)


def _readable(tag: str, trigger: str) -> str:
    # Booru-style tags ("looking_at_viewer") read as words; the trigger stays one token.
    return tag if trigger and tag.casefold() == trigger.casefold() else tag.replace("_", " ")


def _trigger_first(tags: list[str], trigger: str) -> list[str]:
    key = trigger.casefold()
    if not key or key not in (t.casefold() for t in tags):
        return tags
    return [trigger] + [t for t in tags if t.casefold() != key]


def _find_phrase(text: str, phrase: str) -> int:
    """Where ``phrase`` first stands as whole words (an underscore matches a space), or -1."""
    if not phrase.strip():
        return -1
    words = [re.escape(w) for w in re.split(r"[\s_]+", phrase.strip())]
    match = re.search(r"(?<!\w)" + r"[\s_]+".join(words) + r"(?!\w)", text)
    return match.start() if match else -1
