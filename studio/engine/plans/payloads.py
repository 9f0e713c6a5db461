"""What the plan jobs take and give (Decision 14); field names are the stored JSON's."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True, slots=True)
class PlanPayload:
    influencer_id: uuid.UUID
    start: date
    days: int
    platforms: tuple[str, ...]
    per_day: int = 1
    model: str = ""
    brief: str = ""
    use_cache: bool = True
    utc_offset_minutes: int = 0  # the submitting machine's: posting times are local to the user
    auto_approve: bool = False  # a daily schedule's choice: its posts are approved at once
    schedule_id: uuid.UUID | None = None  # the daily schedule that asked for this plan


@dataclass(frozen=True, slots=True)
class RegeneratePayload:
    item_id: uuid.UUID
    instruction: str = ""
    model: str = ""
    use_cache: bool = True


@dataclass(frozen=True, slots=True)
class PlanResult:
    plan_id: uuid.UUID
    items: tuple[uuid.UUID, ...]
    model: str
    retried: bool
    cost_usd: float
    cache_hits: int
    calls: int
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class RegenerateResult:
    item_id: uuid.UUID
    plan_id: uuid.UUID
    model: str
    retried: bool
    cost_usd: float
    cache_hits: int
    calls: int
    warnings: tuple[str, ...] = ()
