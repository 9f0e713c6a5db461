"""Token counts and limits per family: CLIP exact for SD, T5/umT5/Qwen estimates that never
count fewer tokens than the real tokenizers, and the limits the trainers actually use."""
from __future__ import annotations

import pytest

from studio.engine.core import Studio
from studio.engine.datasets import checks
from studio.engine.datasets.checks import caption_checks
from studio.engine.datasets.token_limits import LIMITS, count_for, estimate_qwen, estimate_t5, limit_for
from studio.engine.training.config import FAMILIES
from tests.engine.datasets.caption_helpers import add_image, make_dataset

# (caption, real T5-XXL tokens, real Qwen2.5 tokens), both without special tokens, counted with
# the tokenizer files ComfyUI 0.3.64 ships (comfy/text_encoders/t5_tokenizer/tokenizer.json and
# qwen25_tokenizer/vocab.json + merges.txt) through the `tokenizers` package, on 2026-12-06.
REAL_COUNTS = [
    ("mia_v, woman, red dress, smiling, beach, sunset lighting", 16, 15),
    ("mia_v, 1girl, solo, long hair, looking at viewer, upper body, white shirt, outdoors, bokeh", 29, 27),
    ("A photo of mia_v, a young woman with long brown hair, smiling at the camera on a sunny beach at "
     "sunset.", 29, 26),
    ("A candid, slightly grainy 35mm film photograph of mia_v laughing while walking her golden retriever "
     "along a cobblestone alley in Lisbon, early morning, pastel-coloured buildings, long shadows.", 45, 45),
    ("photo of mia_v, 28 years old, 1990s aesthetic, Polaroid, overexposed flash, hotel room, 3 a.m.", 34, 37),
    ("looking_at_viewer, 1girl, mia_v, brown_eyes, short_hair, school_uniform, cherry_blossoms", 36, 31),
    ("Cinematic still of mia_v in a retro-futuristic diner, chrome surfaces, teal-and-orange grading, "
     "anamorphic lens flare, she is reading a paperback novel titled \"Midnight Express\".", 58, 45),
    ("Une femme élégante marche dans la rue à Paris, café, été.", 18, 17),
    ("一个女孩站在海滩上，微笑着看着镜头。", 4, 11),
]


def test_limits_are_the_trainers_own() -> None:
    assert set(LIMITS) == set(FAMILIES)
    assert [(limit_for(f).encoder, limit_for(f).limit) for f in FAMILIES] == [
        ("CLIP", 75), ("CLIP", 75), ("T5-XXL", 511), ("T5-XXL", 255), ("Qwen2.5-VL", 1019),
        ("umT5-XXL", 511), ("umT5-XXL", 511)]
    assert limit_for("") == LIMITS["sd15"]  # unknown: the strictest


@pytest.mark.parametrize(("caption", "t5", "qwen"), REAL_COUNTS)
def test_estimates_never_undercount_the_real_tokenizers(caption: str, t5: int, qwen: int) -> None:
    assert t5 <= estimate_t5(caption) <= 2 * t5 + 20
    assert qwen <= estimate_qwen(caption) <= 5 * qwen


def test_count_for_uses_the_family_encoder() -> None:
    caption = REAL_COUNTS[2][0]
    assert count_for(caption, "sdxl") == checks.token_count(caption)  # CLIP, exact where installed
    flux, qwen, wan = count_for(caption, "flux1"), count_for(caption, "qwen_image"), count_for(caption, "wan22_5b")
    assert (flux.count, flux.exact) == (estimate_t5(caption), False)
    assert (qwen.count, qwen.exact) == (estimate_qwen(caption), False)
    assert wan == flux


def test_a_long_prose_caption_fits_t5_but_not_clip() -> None:
    caption = " ".join([REAL_COUNTS[3][0]] * 5)  # about 225 real T5 tokens
    assert count_for(caption, "sd15").count > limit_for("sd15").limit
    assert count_for(caption, "flux1").count <= limit_for("flux1").limit
    assert count_for(caption, "sd35").count > limit_for("sd35").limit  # the estimate errs long


def test_caption_checks_use_the_family_limit(studio: Studio) -> None:
    ds = make_dataset(studio)
    walk = "mia_v walks along a cobblestone alley in Lisbon at dawn, laughing."
    add_image(studio, ds, 1, caption=" ".join([walk] * 6))
    clip = [i for i in caption_checks(studio, ds) if i.kind == "too-long"]
    assert len(clip) == 1 and "over CLIP's 75" in clip[0].message
    assert [i for i in caption_checks(studio, ds, "flux1") if i.kind == "too-long"] == []
    add_image(studio, ds, 2, caption=" ".join(["mia_v walks along a cobblestone alley in Lisbon at dawn."] * 30))
    (flux,) = [i for i in caption_checks(studio, ds, "flux1") if i.kind == "too-long"]
    assert flux.message.startswith("img_002.png: about ") and "T5-XXL tokens; the trainer reads 511" in flux.message
