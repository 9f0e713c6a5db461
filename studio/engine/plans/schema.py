"""The JSON the model must answer with for a plan or for one regenerated item.

Strict-mode shapes (every property required, no extras) so OpenRouter's structured outputs
accept them; optional texts are required strings that may be empty. Dates, the number of posts
per day and the time format are checked again here, since not every model honours a schema.
"""
from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from typing import Any

PLATFORMS = ("instagram", "tiktok", "youtube-shorts")
TEXT_FIELDS = ("topic", "hook", "caption", "image_prompt", "video_prompt", "subtitle_text")
EDITABLE = (*TEXT_FIELDS, "scheduled_at", "platform", "hashtags")  # what `plan edit` may set
TIME_PATTERN = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"
DATE_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"


def content_properties() -> dict[str, Any]:
    """The fields a model writes; the same for a whole plan and for one regenerated item."""
    text = {"type": "string"}
    return {
        "topic": {**text, "minLength": 1},
        "hook": {**text, "minLength": 1, "description": "the first line or first seconds"},
        "caption": {**text, "minLength": 1, "description": "the post text, without hashtags"},
        "hashtags": {"type": "array", "minItems": 1, "maxItems": 30,
                     "items": {"type": "string", "pattern": r"^#?[^\s#]+$"}},
        "image_prompt": {**text, "minLength": 1,
                         "description": "a Stable Diffusion prompt in English with the trigger word"},
        "video_motion_prompt": {**text, "description": "camera and subject motion; empty for a still"},
        "subtitle_text": {**text, "description": "short on-screen text; may be empty"},
    }


def item_schema(platforms: tuple[str, ...]) -> dict[str, Any]:
    properties = {"date": {"type": "string", "pattern": DATE_PATTERN},
                  "time": {"type": "string", "pattern": TIME_PATTERN},
                  "platform": {"type": "string", "enum": list(platforms)},
                  **content_properties()}
    return {"type": "object", "additionalProperties": False, "required": list(properties),
            "properties": properties}


def plan_schema(platforms: tuple[str, ...]) -> dict[str, Any]:
    return {"type": "object", "additionalProperties": False, "required": ["items"],
            "properties": {"items": {"type": "array", "minItems": 1,
                                     "items": item_schema(platforms)}}}


def regenerate_schema() -> dict[str, Any]:
    properties = content_properties()
    return {"type": "object", "additionalProperties": False, "required": list(properties),
            "properties": properties}


def plan_days(start: date, days: int) -> list[date]:
    return [start + timedelta(days=i) for i in range(days)]


def check_plan(value: dict[str, Any], start: date, days: int, per_day: int) -> list[str]:
    """What the schema cannot say: real dates, inside the range, ``per_day`` posts each day."""
    found: list[str] = []
    wanted = plan_days(start, days)
    counts: Counter[date] = Counter()
    for index, item in enumerate(value["items"]):
        try:
            day = date.fromisoformat(item["date"])
        except ValueError:
            found.append(f"at items[{index}].date: '{item['date']}' is not a real date")
            continue
        if day not in wanted:
            found.append(f"at items[{index}].date: {day} is outside {wanted[0]} to {wanted[-1]}")
            continue
        counts[day] += 1
    if not found:
        found = [f"{day} has {counts[day]} posts; it needs exactly {per_day}"
                 for day in wanted if counts[day] != per_day]
    return found
