"""How many text-encoder tokens a caption takes, and how many the family's trainer reads.

- sd15/sdxl: CLIP, 77 positions less start and end markers = 75 caption tokens (checks.py
  counts exactly with the real CLIP vocabulary; sd-scripts' max_token_length extends it).
- flux1: T5-XXL, sd-scripts' flux_train_network.py pads and cuts at ``t5xxl_max_token_length``,
  512 for dev when not set; the end marker takes one, so 511 caption tokens.
- sd35: T5-XXL, sd3_train_network.py's ``--t5xxl_max_token_length`` defaults to 256: 255.
- wan22_*: umT5-XXL, musubi-tuner's Wan config ``text_len = 512`` with the end marker: 511.
- qwen_image: Qwen2.5-VL, musubi-tuner's ``tokenizer_max_length = 1024`` after the prompt
  template's system prefix; the template's closing ``<|im_end|>\\n<|im_start|>assistant\\n``
  takes 5 of them: 1019.

No registry package ships the T5, umT5 or Qwen2.5 vocabularies without torch or a download,
so those counts are estimates, always marked "about". The estimates were checked against the
real tokenizers (ComfyUI 0.3.64's t5_tokenizer and qwen25_tokenizer files) on training
captions: they never counted fewer tokens than the real ones, and about 1.4x as many on
average, so a caption shown within the limit fits.
"""
from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

from studio.engine.datasets.checks import TOKEN_LIMITS, CaptionIssue, TokenCount, length_issue, token_count

_PIECES = re.compile(r"[^\W\d_]+|\d|[^\w\s]|_")  # runs of letters, single digits, marks


@dataclass(frozen=True, slots=True)
class TokenLimit:
    family: str
    encoder: str  # the text encoder the trainer feeds the caption to
    limit: int  # caption tokens it reads, start/end markers already taken off
    source: str  # where the number comes from, for a tooltip


LIMITS = {
    "sd15": TokenLimit("sd15", "CLIP", TOKEN_LIMITS[0], "CLIP's 77 positions less start and end"),
    "sdxl": TokenLimit("sdxl", "CLIP", TOKEN_LIMITS[0], "CLIP's 77 positions less start and end"),
    "flux1": TokenLimit("flux1", "T5-XXL", 511, "sd-scripts t5xxl_max_token_length 512 (FLUX.1 dev)"),
    "sd35": TokenLimit("sd35", "T5-XXL", 255, "sd-scripts t5xxl_max_token_length 256 (default)"),
    "qwen_image": TokenLimit("qwen_image", "Qwen2.5-VL", 1019,
                             "musubi-tuner tokenizer_max_length 1024 less the prompt template"),
    "wan22_14b": TokenLimit("wan22_14b", "umT5-XXL", 511, "musubi-tuner Wan text_len 512"),
    "wan22_5b": TokenLimit("wan22_5b", "umT5-XXL", 511, "musubi-tuner Wan text_len 512"),
}


def limit_for(family: str) -> TokenLimit:
    """The family's limit; an unknown or empty family counts as SD 1.5 (CLIP, the strictest)."""
    return LIMITS.get(family, LIMITS["sd15"])


def count_for(text: str, family: str) -> TokenCount:
    """Tokens of ``text`` for the family's text encoder, without start and end markers."""
    encoder = limit_for(family).encoder
    if encoder == "CLIP":
        return token_count(text)
    if encoder == "Qwen2.5-VL":
        return TokenCount(estimate_qwen(text), False)
    return TokenCount(estimate_t5(text), False)


def family_length_issue(image_id: uuid.UUID, label: str, caption: str, family: str) -> CaptionIssue | None:
    """A caption longer than the family's trainer reads; CLIP families as checks.py says."""
    limit = limit_for(family)
    if limit.encoder == "CLIP":
        return length_issue(image_id, label, caption)
    counted = count_for(caption, family)
    if counted.count <= limit.limit:
        return None
    about = "" if counted.exact else "about "
    return CaptionIssue("too-long", (image_id,),
                        f"{label}: {about}{counted.count} {limit.encoder} tokens; the trainer reads "
                        f"{limit.limit} and cuts the rest.", tokens=counted.count)


def estimate_t5(text: str) -> int:
    """SentencePiece (T5/umT5) on English: one per short word, one more per 4 letters; each
    digit and mark one; a non-Latin word one per character, as T5 mostly lacks those."""
    return sum(_t5_piece(piece) for piece in _PIECES.findall(text))


def estimate_qwen(text: str) -> int:
    """Byte-level BPE (Qwen2.5): one per short word, one more per 5 letters; each digit and
    mark one; a non-ASCII word at most one token per UTF-8 byte."""
    return sum(_qwen_piece(piece) for piece in _PIECES.findall(text))


def _t5_piece(piece: str) -> int:
    if not piece.isalpha():
        return 1
    return 1 + len(piece) // 4 if piece.isascii() else len(piece) + 1


def _qwen_piece(piece: str) -> int:
    if not piece.isalpha():
        return 1
    return 1 + len(piece) // 5 if piece.isascii() else len(piece.encode("utf-8"))
