"""Every paid chat call of a job goes through here: cache, budget, ledger, job cost.

Order per request: an identical earlier answer from the cache is free and allowed even over
budget; otherwise the call's most possible cost is reserved (``reservations``: refused at 100 %,
committed before anything is sent), the call is made, the answer cached at once (so a job that
dies after this point finds it when it runs again, and does not pay twice), and the
reservation settled to the real cost on the ledger and the job. A failed call releases its
reservation, unless the request went out and no answer came (it may have been paid: it then
counts at its reservation). A cost the server reports that is not a number of 0 or more is
refused and the call booked at its estimate, with a warning. Crossing 80 % is noted once per
job on the job row's message; warnings are kept in ``warnings`` for the job's result.
"""
from __future__ import annotations

import dataclasses
import logging
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from studio.engine.db.database import Database
from studio.engine.db.models import Job
from studio.engine.jobs.context import JobContext
from studio.engine.jobs.errors import JobFailed
from studio.engine.llm.budget import CallRecord, budget_status, record_call, usd
from studio.engine.llm.cache import ResponseCache, cache_key
from studio.engine.llm.client import ChatResult, LLMClient, LLMUnavailable, client_for, request_body
from studio.engine.llm.prices import ModelPrice, known_prices, max_cost
from studio.engine.llm.reservations import Intent, Reservation, leave_unsettled, release, reserve, settle
from studio.engine.llm.structured import Check, StructuredResult, complete_json
from studio.engine.secrets import secret_store_for

log = logging.getLogger("studio.llm")
Prices = Callable[[], Mapping[str, ModelPrice]]


@dataclass(frozen=True, slots=True)
class CallScope:
    """Whom a call is booked to."""

    workspace_id: uuid.UUID
    purpose: str
    job_id: uuid.UUID | None = None
    influencer_id: uuid.UUID | None = None


class MeteredLLM:
    def __init__(self, client: LLMClient, db: Database, scope: CallScope, *,
                 cache: ResponseCache | None = None, use_cache: bool = True,
                 prices: Prices | None = None,
                 check_canceled: Callable[[], None] | None = None) -> None:
        self.client = client
        self.db = db
        self.scope = scope
        self.cache = cache
        self.use_cache = use_cache and cache is not None
        self.prices: Prices = prices or (lambda: known_prices(client.base_url))
        self.warnings: list[str] = []
        self.calls: list[ChatResult] = []
        self._warned_budget = False
        self._check_canceled = check_canceled or (lambda: None)

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
        prices = self.prices()
        reservation = reserve(self.db, self._intent(body), max_cost(body, prices),
                              wait_s=self.client.max_call_s, sleep=self._wait)
        result = self._ask(body, reservation)
        if self.cache is not None:  # a bypass still refreshes the stored answer
            self.cache.put(key, result)
        result = dataclasses.replace(result, cost_usd=self._cost(result, prices, reservation))
        settle(self.db, reservation, result, result.cost_usd)
        self.calls.append(result)
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

    def _wait(self, seconds: float) -> None:
        """While other calls hold the budget: a cancel still stops the job at once."""
        self._check_canceled()
        time.sleep(seconds)

    def _ask(self, body: dict[str, Any], reservation: Reservation) -> ChatResult:
        try:
            return self.client.send(body)
        except LLMUnavailable as exc:
            (leave_unsettled if exc.maybe_billed else release)(self.db, reservation)
            raise
        except JobFailed:  # refused by the server: nothing was paid
            release(self.db, reservation)
            raise
        except BaseException:  # interrupted mid-request: it may have been paid
            leave_unsettled(self.db, reservation)
            raise

    def _cost(self, result: ChatResult, prices: Mapping[str, ModelPrice],
              reservation: Reservation) -> float:
        """The server's cost; without one, what the tokens cost at the listed price; a refused
        one (NaN, negative, text) is booked at that estimate, else at the reservation."""
        if result.cost_reported:
            return result.cost_usd
        price = prices.get(result.model)
        priced = (result.prompt_tokens * price.prompt + result.completion_tokens * price.completion
                  + price.request) if price is not None else None
        if not result.cost_problem:
            return priced or 0.0  # a server that bills nothing (a local one) reports no cost
        estimate = priced if priced is not None else reservation.amount_usd
        warning = (f"The LLM server reported {result.cost_problem} for a call to "
                   f"{result.model or 'the model'}; it is booked at its estimate, {usd(estimate)}.")
        log.warning("%s", warning)
        self.warnings.append(warning)
        return estimate

    def _intent(self, body: dict[str, Any]) -> Intent:
        models = (str(body.get("model") or ""), *(str(m) for m in body.get("models", [])))
        return Intent(self.scope.workspace_id, models, self.scope.purpose, self.scope.job_id,
                      self.scope.influencer_id)

    def _record(self, result: ChatResult) -> None:
        self.calls.append(result)
        record_call(self.db, CallRecord(
            workspace_id=self.scope.workspace_id, model=result.model,
            prompt_tokens=result.prompt_tokens, completion_tokens=result.completion_tokens,
            cost_usd=result.cost_usd, cached=result.cached, purpose=self.scope.purpose,
            job_id=self.scope.job_id, influencer_id=self.scope.influencer_id,
            generation_id=result.generation_id))

    def _warn_if_near_budget(self) -> None:
        if self._warned_budget:
            return
        status = budget_status(self.db, self.scope.workspace_id)
        if status.level not in ("warning", "exceeded"):
            return
        self._warned_budget = True
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
                      use_cache=use_cache, check_canceled=ctx.check_canceled)
