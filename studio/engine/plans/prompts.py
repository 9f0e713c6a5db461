"""What the model is told: the influencer's persona, the dates, and what each post needs.

Everything that changes the answer is in the messages, so the cache key changes with it: a
re-run of the same plan for the same persona is free, an edited persona asks again.
"""
from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from studio.engine.db.models import Influencer, PlanItem

SYSTEM = (
    "You plan social media posts for a virtual influencer whose images are made with a Stable "
    "Diffusion LoRA. Stay in the persona's voice. Write topic, hook, caption, hashtags and "
    "subtitle text in the persona's language; write image and motion prompts in English. Every "
    "image prompt starts with the LoRA trigger word, then describes subject, outfit, setting, "
    "lighting and framing as comma-separated phrases. A video motion prompt describes camera "
    "and subject movement for a 2 to 4 second clip, or is empty for a still post. Subtitle text "
    "is at most one short sentence, or empty. Captions do not repeat the hashtags. Answer with "
    "JSON only, matching the given schema.")


@dataclass(frozen=True, slots=True)
class PlanRequest:
    start: date
    days: int
    platforms: tuple[str, ...]
    per_day: int = 1
    brief: str = ""  # extra instructions from the user


def persona_text(influencer: Influencer) -> str:
    lines = [f"Name: {influencer.name}",
             f"LoRA trigger word: {influencer.trigger_word or '(none)'}",
             f"Language: {influencer.language or 'en'}"]
    for label, value in (("Tone", influencer.tone), ("Style", influencer.style),
                         ("Voice", influencer.voice), ("Notes", influencer.notes)):
        if value.strip():
            lines.append(f"{label}: {value.strip()}")
    topics = [str(t) for t in influencer.topics or [] if str(t).strip()]
    if topics:
        lines.append(f"Topics: {', '.join(topics)}")
    return "\n".join(lines)


def plan_messages(influencer: Influencer, request: PlanRequest) -> list[dict[str, Any]]:
    last = date.fromordinal(request.start.toordinal() + request.days - 1)
    ask = [persona_text(influencer), "",
           f"Plan {request.per_day} post(s) per day for every day from {request.start.isoformat()} "
           f"to {last.isoformat()} ({request.days} days, {request.days * request.per_day} posts "
           f"in all), on: {', '.join(request.platforms)}.",
           "Give each post a local posting time (HH:MM) when this audience is most active, vary "
           "topics and settings from day to day, and give about a third of the posts a video "
           "motion prompt."]
    if request.brief.strip():
        ask += ["", f"Also: {request.brief.strip()}"]
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": "\n".join(ask)}]


def regenerate_messages(influencer: Influencer, item: PlanItem, others: Sequence[PlanItem],
                        instruction: str = "") -> list[dict[str, Any]]:
    current = {"topic": item.topic, "hook": item.hook, "caption": item.caption,
               "hashtags": list(item.hashtags or []), "image_prompt": item.image_prompt,
               "video_motion_prompt": item.video_prompt, "subtitle_text": item.subtitle_text}
    taken = [f"- {o.scheduled_at.date().isoformat()}: {o.topic}" for o in others if o.topic]
    ask = [persona_text(influencer), "",
           f"Write a new {item.platform} post for {item.scheduled_at.date().isoformat()} to "
           "replace this one, with a different idea:",
           json.dumps(current, ensure_ascii=False)]
    if taken:
        ask += ["", "Other posts of the plan (do not repeat their topics):", *taken]
    if instruction.strip():
        ask += ["", f"Also: {instruction.strip()}"]
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": "\n".join(ask)}]


def with_trigger(prompt: str, trigger: str) -> str:
    """The trigger word at the front when the model left it out: without it the LoRA does
    not draw the influencer."""
    prompt = prompt.strip()
    if not trigger or re.search(rf"(?<![\w-]){re.escape(trigger)}(?![\w-])", prompt, re.IGNORECASE):
        return prompt
    return f"{trigger}, {prompt}" if prompt else trigger


def clean_hashtags(tags: Sequence[str]) -> list[str]:
    """'#' in front, no duplicates (case-insensitive), in the model's order."""
    seen: set[str] = set()
    cleaned = []
    for tag in tags:
        text = "#" + str(tag).strip().lstrip("#")
        if len(text) > 1 and text.lower() not in seen:
            seen.add(text.lower())
            cleaned.append(text)
    return cleaned
