"""/spend: ``spend [--month]`` and ``spend budget`` over HTTP — LLM cost against the budget."""
from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from studio.engine.api.deps import Reader, StudioDep, Writer
from studio.engine.errors import InvalidInput
from studio.engine.llm.budget import BudgetStatus, SpendRow, budget_status, set_budget, spend_by

router = APIRouter(prefix="/spend", tags=["spend"])
GROUPS = ("model", "influencer", "day")


class BudgetOut(BaseModel):
    workspace: str
    month: str = Field(description="YYYY-MM")
    spent_usd: float
    budget_usd: float | None
    level: str
    message: str


class SpendRowOut(BaseModel):
    key: str = Field(description="a model id, an influencer's name or a day")
    calls: int
    cached_calls: int
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float


class SpendOut(BudgetOut):
    by_model: list[SpendRowOut]
    by_influencer: list[SpendRowOut]
    by_day: list[SpendRowOut]


class BudgetIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    usd: float | None = Field(ge=0, description="the monthly budget in USD; null: no limit")


@router.get("", response_model=SpendOut)
def show_spend(studio: StudioDep, who: Reader,
               month: str | None = Query(default=None, pattern=r"^\d{4}-\d{2}$",
                                         description="YYYY-MM (default: this month, UTC)")) -> SpendOut:
    day = _month(month)
    status = budget_status(studio.db, who.workspace_id, day)
    groups = {what: [_row(r) for r in spend_by(studio.db, who.workspace_id, what, day)] for what in GROUPS}
    return SpendOut(**_status(status).model_dump(), by_model=groups["model"],
                    by_influencer=groups["influencer"], by_day=groups["day"])


@router.put("/budget", response_model=BudgetOut)
def put_budget(body: BudgetIn, studio: StudioDep, who: Writer) -> BudgetOut:
    return _status(set_budget(studio.db, who.workspace_id, body.usd))


def _month(text: str | None) -> date | None:
    if not text:
        return None
    year, month = (int(p) for p in text.split("-"))
    try:
        return date(year, month, 1)
    except ValueError:
        raise InvalidInput(f"'{text}' is not a month; write it as YYYY-MM, e.g. 2026-11.") from None


def _status(status: BudgetStatus) -> BudgetOut:
    return BudgetOut(workspace=status.workspace, month=status.month, spent_usd=round(status.spent_usd, 8),
                     budget_usd=status.budget_usd, level=status.level, message=status.line)


def _row(row: SpendRow) -> SpendRowOut:
    return SpendRowOut(key=row.key, calls=row.calls, cached_calls=row.cached_calls,
                       prompt_tokens=row.prompt_tokens, completion_tokens=row.completion_tokens,
                       cost_usd=round(row.cost_usd, 8))
