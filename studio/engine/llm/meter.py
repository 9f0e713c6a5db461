"""Every paid chat call of a job goes through here: cache, budget, ledger, job cost.

Order per request: an identical earlier answer from the cache is free and allowed even over
budget; otherwise the budget is checked (100 % refuses), the call is made, its cost recorded
on the ledger and the job, and the answer cached. Crossing 80 % is noted once per job on the
job row's message and kept in ``warnings`` for the job's result.
"""
from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from studio.engine.db.database import Database
from studio.engine.db.models import Job
from studio.engine.jobs.context import JobContext
from studio.engine.llm.budget import CallRecord, budget_status, ensure_within_budget, record_call
from studio.engine.llm.cache import ResponseCache, cache_key
from studio.engine.llm.client import ChatResult, LLMClient, client_for, request_body
from studio.engine.llm.structured import Check, StructuredResult, complete_json
from studio.engine.secrets import secret_store_for


@dataclass(frozen=True, slots=True)
class CallScope:
    """Whom a call is booked to."""

    workspace_id: uuid.UUID
    purpose: str
    job_id: uuid.UUID | None = None
    influencer_id: uuid.UUID | None = None


class MeteredLLM:
    def __init__(self, client: LLMClient, db: Database, scope: CallScope, *,
                 cache: ResponseCache | None = None, use_cache: bool = True) -> None:
        self.client = client
        self.db = db
        self.scope = scope
        self.cache = cache
        self.use_cache = use_cache and cache is not None
        self.warnings: list[str] = []
        self.calls: list[ChatResult] = []

    def __enter__(self) -> MeteredLLM:
        return self

    def __exit__(self, *exc: object) -> None:
        self.client.close()

    @property
    def cost_usd(self) -> float:
        return sum(c.cost_usd for c in self.calls)

    @property
    def cache_hits(self) -> int:
        return sum(1 for c in self.calls if c.cached)

    def send(self, body: dict[str, Any]) -> ChatResult:
        key = cache_key(self.client.base_url, body)
        if self.use_cache and self.cache is not None:
            hit = self.cache.get(key)
            if hit is not None:
                self._record(hit)
                return hit
        ensure_within_budget(self.db, self.scope.workspace_id)
        result = self.client.send(body)
        self._record(result)
        if self.cache is not None:  # a bypass still refreshes the stored answer
            self.cache.put(key, result)
        self._warn_if_near_budget()
        return result

    def chat(self, messages: Sequence[dict[str, Any]], **options: Any) -> ChatResult:
        return self.send(request_body(messages, **options))

    def complete_json(self, messages: Sequence[dict[str, Any]], schema: dict[str, Any], *,
                      name: str, check: Check | None = None, **options: Any) -> StructuredResult:
        return complete_json(self.send, messages, schema, name=name, check=check,
                             on_invalid=self.forget, **options)

    def forget(self, body: dict[str, Any]) -> None:
        """Drops a cached answer that proved unusable, so a re-run asks the model again."""
        if self.cache is not None:
            self.cache.discard(cache_key(self.client.base_url, body))

    def _record(self, result: ChatResult) -> None:
        self.calls.append(result)
        record_call(self.db, CallRecord(
            workspace_id=self.scope.workspace_id, model=result.model,
            prompt_tokens=result.prompt_tokens, completion_tokens=result.completion_tokens,
            cost_usd=result.cost_usd, cached=result.cached, purpose=self.scope.purpose,
            job_id=self.scope.job_id, influencer_id=self.scope.influencer_id,
            generation_id=result.generation_id))

    def _warn_if_near_budget(self) -> None:
        if self.warnings:
            return
        status = budget_status(self.db, self.scope.workspace_id)
        if status.level not in ("warning", "exceeded"):
            return
        self.warnings.append(status.line)
        if self.scope.job_id is None:
            return
        with self.db.session() as session:
            job = session.get(Job, self.scope.job_id)
            if job is not None:
                job.message = status.line


def metered_for_job(ctx: JobContext, *, purpose: str, influencer_id: uuid.UUID | None = None,
                    use_cache: bool = True) -> MeteredLLM:
    """The metered client a job handler uses, as a context manager (it closes the client)."""
    client = client_for(ctx.settings, secret_store_for(ctx.paths))
    scope = CallScope(ctx.workspace_id, purpose, ctx.job_id, influencer_id)
    return MeteredLLM(client, ctx.db, scope, cache=ResponseCache.in_folder(ctx.paths.cache_dir),
                      use_cache=use_cache)
