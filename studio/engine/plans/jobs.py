"""``generate-plan`` and ``regenerate-plan-item`` jobs on the general queue.

Each asks the plan model through the metered client (cache, budget, ledger, cost on the job)
for JSON that is validated and retried once; only a valid answer is written. The trigger word
is put in front of an image prompt that lacks it rather than failing the plan for it.
"""
from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import Any

from sqlalchemy import select

from studio.engine.db.models import ContentPlan, Influencer, PlanItem
from studio.engine.errors import NotFound
from studio.engine.jobs.context import JobContext
from studio.engine.jobs.errors import JobFailed
from studio.engine.jobs.registry import job_type
from studio.engine.llm.client import request_body
from studio.engine.llm.meter import MeteredLLM, metered_for_job
from studio.engine.llm.structured import StructuredResult, response_format
from studio.engine.plans.payloads import PlanPayload, PlanResult, RegeneratePayload, RegenerateResult
from studio.engine.plans.prompts import PlanRequest, clean_hashtags, plan_messages, regenerate_messages, with_trigger
from studio.engine.plans.schema import check_plan, plan_schema, regenerate_schema
from studio.engine.plans.service import GENERATE_JOB, REGENERATE_JOB, fallback_models

TEMPERATURE = 0.8
TOKENS_PER_ITEM = 450  # a full item is 250 to 350 tokens; the rest is headroom
MAX_TOKENS = 16000


@job_type(GENERATE_JOB, queue="general", payload=PlanPayload, result=PlanResult, paid_calls=True)
def run_generate_plan(ctx: JobContext, payload: PlanPayload) -> PlanResult:
    request, offset = _plan_request(payload)
    influencer = _influencer(ctx, payload.influencer_id)
    model = payload.model
    count = request.days * request.per_day
    ctx.check_canceled()
    ctx.progress(0.05, stage="asking the model", message=f"{count} posts from {model}")
    with _metered(ctx, influencer, payload.use_cache) as llm:
        answer = llm.complete_json(
            plan_messages(influencer, request), plan_schema(request.platforms),
            name="content_plan", check=lambda v: check_plan(v, request.start, request.days,
                                                          request.per_day),
            model=model, models=fallback_models(ctx.settings), temperature=TEMPERATURE,
            max_tokens=plan_max_tokens(request))
    ctx.check_canceled()
    ctx.progress(0.9, stage="saving the plan")
    last = request.start + timedelta(days=request.days - 1)
    with ctx.db.session() as session:
        plan = ContentPlan(workspace_id=ctx.workspace_id, influencer_id=influencer.id,
                           name=f"{influencer.name} {request.start.isoformat()} to {last.isoformat()}",
                           start_date=request.start, end_date=last, status="draft")
        session.add(plan)
        session.flush()
        status = "approved" if payload.auto_approve else "draft"
        items = [_new_item(ctx, plan.id, raw, influencer.trigger_word, offset, status)
                 for raw in sorted(answer.value["items"], key=lambda i: (i["date"], i["time"]))]
        session.add_all(items)
        plan_id, item_ids = plan.id, [i.id for i in items]
    return PlanResult(plan_id=plan_id, items=tuple(item_ids), **_accounting(answer, llm))


@job_type(REGENERATE_JOB, queue="general", payload=RegeneratePayload, result=RegenerateResult,
          paid_calls=True)
def run_regenerate_item(ctx: JobContext, payload: RegeneratePayload) -> RegenerateResult:
    item_id = payload.item_id
    with ctx.db.session() as session:
        item = session.get(PlanItem, item_id)
        if item is None or item.workspace_id != ctx.workspace_id or item.deleted_at:
            raise NotFound("The plan item of this job no longer exists.")
        plan = session.get(ContentPlan, item.plan_id)
        if plan is None or plan.deleted_at:
            raise NotFound("The plan of this item no longer exists.")
        others = list(session.scalars(select(PlanItem).where(
            PlanItem.plan_id == plan.id, PlanItem.id != item.id, PlanItem.deleted_at.is_(None))
            .order_by(PlanItem.scheduled_at)))
    influencer = _influencer(ctx, plan.influencer_id)
    model = payload.model
    ctx.check_canceled()
    ctx.progress(0.1, stage="asking the model", message=model)
    with _metered(ctx, influencer, payload.use_cache) as llm:
        answer = llm.complete_json(
            regenerate_messages(influencer, item, others, payload.instruction),
            regenerate_schema(), name="plan_item", model=model,
            models=fallback_models(ctx.settings), temperature=TEMPERATURE,
            max_tokens=500 + TOKENS_PER_ITEM)
    ctx.check_canceled()
    with ctx.db.session() as session:
        fresh = session.get(PlanItem, item_id)
        if fresh is None or fresh.deleted_at:
            raise NotFound("The plan item was deleted while a new version was written.")
        for name, value in _content(answer.value, influencer.trigger_word).items():
            setattr(fresh, name, value)
        fresh.status = "draft"  # new words need a new look before they are posted
    return RegenerateResult(item_id=item_id, plan_id=plan.id, **_accounting(answer, llm))


def plan_max_tokens(request: PlanRequest) -> int:
    return min(MAX_TOKENS, 500 + TOKENS_PER_ITEM * request.days * request.per_day)


def plan_body(influencer: Influencer, request: PlanRequest, model: str,
              fallbacks: list[str]) -> dict[str, Any]:
    """The first request a generate-plan job sends, as sent and as the cache keys it; the
    cost estimate builds it here so that it cannot drift from the job's call above."""
    return request_body(plan_messages(influencer, request), model=model, models=fallbacks,
                        temperature=TEMPERATURE, max_tokens=plan_max_tokens(request),
                        response_format=response_format("content_plan",
                                                        plan_schema(request.platforms)))


def _metered(ctx: JobContext, influencer: Influencer, use_cache: bool) -> MeteredLLM:
    return metered_for_job(ctx, purpose="plan", influencer_id=influencer.id, use_cache=use_cache)


def _new_item(ctx: JobContext, plan_id: uuid.UUID, raw: dict[str, Any], trigger: str,
              offset: timezone, status: str) -> PlanItem:
    hour, minute = (int(p) for p in raw["time"].split(":"))
    local = datetime.combine(date.fromisoformat(raw["date"]), time(hour, minute), tzinfo=offset)
    return PlanItem(workspace_id=ctx.workspace_id, plan_id=plan_id,
                    scheduled_at=local.astimezone(UTC), platform=raw["platform"],
                    status=status, **_content(raw, trigger))


def _content(raw: dict[str, Any], trigger: str) -> dict[str, Any]:
    return {"topic": raw["topic"].strip(), "hook": raw["hook"].strip(),
            "caption": raw["caption"].strip(), "hashtags": clean_hashtags(raw["hashtags"]),
            "image_prompt": with_trigger(raw["image_prompt"], trigger),
            "video_prompt": raw["video_motion_prompt"].strip(),
            "subtitle_text": raw["subtitle_text"].strip()}


def _accounting(answer: StructuredResult, llm: MeteredLLM) -> dict[str, Any]:
    return {"model": answer.calls[-1].model, "retried": answer.retried,
            "cost_usd": round(llm.cost_usd, 8), "cache_hits": llm.cache_hits,
            "calls": len(llm.calls), "warnings": tuple(llm.warnings)}


def _plan_request(payload: PlanPayload) -> tuple[PlanRequest, timezone]:
    request = PlanRequest(start=payload.start, days=payload.days, platforms=payload.platforms,
                          per_day=payload.per_day, brief=payload.brief)
    try:
        offset = timezone(timedelta(minutes=payload.utc_offset_minutes))
    except ValueError as exc:
        raise JobFailed(f"The plan job's UTC offset is out of range ({exc}).") from exc
    return request, offset


def _influencer(ctx: JobContext, influencer_id: uuid.UUID) -> Influencer:
    with ctx.db.session() as session:
        influencer = session.get(Influencer, influencer_id)
    if influencer is None or influencer.workspace_id != ctx.workspace_id or influencer.deleted_at:
        raise NotFound("The influencer of this plan no longer exists.")
    return influencer

