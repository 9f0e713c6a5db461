"""Caption checks before training: missing trigger word, empty, duplicate, too long for CLIP.

Token counts use the real CLIP BPE vocabulary through ``instant-clip-tokenizer`` (Decision 8:
no torch). CLIP's text encoder has a context of 77 tokens, two of which are the start and end
markers, so 75 tokens of caption fit in one pass; sd-scripts' ``max_token_length`` extends that
to 150 or 225 by encoding the caption in chunks of 75. ``Tokenizer().encode`` returns the ids
without those two markers, so its length is compared with 75/150/225 as it is. Where the
tokenizer is not installed (Python 3.13+), a word-based estimate marked not exact stands in.
"""
from __future__ import annotations

import math
import re
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import select

from studio.engine.core import Studio
from studio.engine.datasets.tags import trigger_present
from studio.engine.db.models import Dataset, DatasetImage, Influencer

CLIP_CONTEXT = 77
TOKEN_LIMITS = (75, 150, 225)  # CLIP's 77 minus start/end markers, and sd-scripts' 2x and 3x
_WORDS = re.compile(r"[^\W\d_]+|\d|[^\w\s]|_")  # letters, single digits, punctuation, as CLIP splits


@dataclass(frozen=True, slots=True)
class TokenCount:
    count: int
    exact: bool  # False: an estimate (the UI shows "≈")


@dataclass(frozen=True, slots=True)
class CaptionIssue:
    kind: str  # "empty", "missing-trigger", "duplicate", "too-long"
    image_ids: tuple[uuid.UUID, ...]
    message: str
    severity: str = "warning"  # or "error"
    tokens: int = 0



@dataclass(frozen=True, slots=True)
class IssueSummary:
    """Caption issues as a summary shows them: made where they are found, so a window counting
    100,000 findings (pictures without captions) does not do it on its UI thread."""

    count: int
    kinds: tuple[tuple[str, int], ...] = ()  # kind → issues, most common first
    first: tuple[str, ...] = ()  # the first issues' messages

    @classmethod
    def of(cls, issues: Sequence[CaptionIssue], shown: int = 30) -> IssueSummary:
        kinds = Counter(issue.kind for issue in issues).most_common()
        return cls(len(issues), tuple(kinds), tuple(issue.message for issue in issues[:shown]))

@lru_cache(maxsize=1)
def _tokenizer() -> Any:
    try:
        from instant_clip_tokenizer import Tokenizer
    except ImportError:
        return None
    return Tokenizer()


def token_count(text: str) -> TokenCount:
    """CLIP tokens of ``text``, without the start and end markers."""
    tokenizer = _tokenizer()
    if tokenizer is not None:
        return TokenCount(len(tokenizer.encode(text)), True)
    return TokenCount(estimate_tokens(text), False)


def estimate_tokens(text: str) -> int:
    """Roughly what CLIP's BPE gives: one per short word, digit and mark; long words split."""
    return sum(math.ceil(len(piece) / 7) if piece.isalpha() else 1
               for piece in _WORDS.findall(text.lower()))


def caption_checks(studio: Studio, dataset: Dataset, family: str = "") -> list[CaptionIssue]:
    """Problems of the captions that will be trained on (excluded and trashed images skipped):
    empty first, then missing trigger, too long (for ``family``'s text encoder; CLIP where
    none is given), and duplicate groups."""
    with studio.db.session() as session:
        rows = session.execute(
            select(DatasetImage.id, DatasetImage.caption, DatasetImage.original_name)
            .where(DatasetImage.workspace_id == dataset.workspace_id,
                   DatasetImage.dataset_id == dataset.id, DatasetImage.deleted_at.is_(None),
                   DatasetImage.excluded.is_(False))
            .order_by(DatasetImage.created_at, DatasetImage.id)).all()
    return check_captions(rows, trigger_of(studio, dataset), family)


def trigger_of(studio: Studio, dataset: Dataset) -> str:
    """The trigger word of the dataset's influencer ("" when she has none)."""
    with studio.db.session() as session:
        influencer = session.get(Influencer, dataset.influencer_id)
        return influencer.trigger_word if influencer is not None else ""


def check_captions(rows: Iterable[tuple[uuid.UUID, str, str]], trigger: str,
                   family: str = "") -> list[CaptionIssue]:
    """``caption_checks`` of captions already read: (image id, caption, name) of the pictures
    trained on, in import order (the Datasets page checks the rows it shows, read once)."""
    # token_limits imports this module for CLIP's counts; imported here to keep that one way.
    from studio.engine.datasets.token_limits import family_length_issue
    empty, missing, long_ = [], [], []
    groups: dict[str, list[uuid.UUID]] = defaultdict(list)
    shown: dict[str, str] = {}
    for image_id, caption, name in rows:
        label = name or str(image_id)
        if not caption.strip():
            empty.append(CaptionIssue("empty", (image_id,), f"{label}: the caption is empty.",
                                      severity="error"))
            continue
        if trigger and not trigger_present(caption, trigger):
            missing.append(CaptionIssue("missing-trigger", (image_id,),
                                        f"{label}: the trigger word '{trigger}' is missing."))
        issue = family_length_issue(image_id, label, caption, family)
        if issue is not None:
            long_.append(issue)
        key = " ".join(caption.split()).casefold()
        groups[key].append(image_id)
        shown.setdefault(key, caption.strip())
    duplicates = [CaptionIssue("duplicate", tuple(ids), f"{len(ids)} images share the caption "
                               f"'{_short(shown[key])}'.") for key, ids in groups.items() if len(ids) > 1]
    return empty + missing + long_ + duplicates


def length_issue(image_id: uuid.UUID, label: str, caption: str) -> CaptionIssue | None:
    """Over 75 tokens is a warning naming the max_token_length it needs; over 225 is an error,
    since sd-scripts cuts it whatever the setting."""
    counted = token_count(caption)
    if counted.count <= TOKEN_LIMITS[0]:
        return None
    about = "" if counted.exact else "about "
    if counted.count > TOKEN_LIMITS[-1]:
        return CaptionIssue("too-long", (image_id,),
                            f"{label}: {about}{counted.count} tokens; sd-scripts reads at most "
                            f"{TOKEN_LIMITS[-1]} and cuts the rest.", severity="error",
                            tokens=counted.count)
    needed = next(limit for limit in TOKEN_LIMITS if counted.count <= limit)
    return CaptionIssue("too-long", (image_id,),
                        f"{label}: {about}{counted.count} tokens, over CLIP's {TOKEN_LIMITS[0]}; "
                        f"only the first {TOKEN_LIMITS[0]} are used unless max_token_length is "
                        f"{needed} or more.", tokens=counted.count)


def _short(text: str, width: int = 60) -> str:
    return text if len(text) <= width else text[:width - 1] + "…"
