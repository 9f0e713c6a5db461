"""What generating a plan will cost, said before anything is paid for.

Tokens are estimated from the very request the job will send (persona, dates, posts per day,
schema): about four characters per prompt token, and a typical full post per item for the
answer. The price per token is the server's own, from ``GET {base}/models`` (OpenRouter lists
``pricing`` in USD per token as strings); a model it does not price, or a server without that
list, gives "price unknown", never a guess. An identical request already in the local answer
cache is certain to be free.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from studio.engine.core import Studio
from studio.engine.db.models import Influencer
from studio.engine.errors import NotFound, ServiceUnavailable
from studio.engine.llm.cache import ResponseCache, cache_key
from studio.engine.llm.prices import (  # noqa: F401 - re-exported: the plan estimate's prices
    ModelPrice,
    clear_price_cache,
    fetch_prices,
    model_prices,
    prompt_tokens,
)
from studio.engine.plans.jobs import plan_body, plan_max_tokens
from studio.engine.plans.prompts import PlanRequest
from studio.engine.plans.service import MAX_DAYS, MAX_PER_DAY, check_platforms, fallback_models, plan_model

COMPLETION_PER_POST = 320  # a full post is 250 to 350 tokens of JSON
COMPLETION_OVERHEAD = 20  # the {"items": [...]} around them


@dataclass(frozen=True, slots=True)
class PlanEstimate:
    model: str
    posts: int
    prompt_tokens: int
    completion_tokens: int
    max_completion_tokens: int
    cached: bool  # the identical request is in the local cache: nothing is sent
    price: ModelPrice | None
    price_note: str = ""  # why the price is unknown

    @property
    def cost_usd(self) -> float | None:
        if self.cached:
            return 0.0
        if self.price is None:
            return None
        return self._cost(self.completion_tokens)

    @property
    def max_cost_usd(self) -> float | None:
        """A full max_tokens answer that is sent back once for a correction (two calls)."""
        if self.cached or self.price is None:
            return None
        return 2 * self._cost(self.max_completion_tokens) + (
            self.max_completion_tokens * self.price.prompt)

    @property
    def line(self) -> str:
        tokens = (f"{self.prompt_tokens:,} prompt + {self.completion_tokens:,} completion tokens "
                  f"for {self.posts} post{'s' if self.posts != 1 else ''}")
        if self.cached:
            return (f"Free: this exact plan was asked of {self.model} before; the answer comes "
                    "from the cache on this machine.")
        if self.price is None or self.cost_usd is None:
            note = f": {self.price_note}" if self.price_note else ""
            return f"About {tokens} with {self.model}; price unknown{note}."
        rates = (f"${self.price.prompt * 1e6:.2f} / ${self.price.completion * 1e6:.2f} per "
                 "million tokens")
        worst = f"; at most {money(self.max_cost_usd)}" if self.max_cost_usd else ""
        return f"About {money(self.cost_usd)} with {self.model}: {tokens} at {rates}{worst}."

    def _cost(self, completion_tokens: int) -> float:
        assert self.price is not None
        return (self.prompt_tokens * self.price.prompt + completion_tokens * self.price.completion
                + self.price.request)


def money(usd: float | None) -> str:
    """Small sums to a hundredth of a cent, as the spend line shows them."""
    if usd is None:
        return "unknown"
    return f"${usd:.4f}" if usd < 1 else f"${usd:,.2f}"


def estimate_plan(studio: Studio, workspace_id: uuid.UUID, influencer_id: uuid.UUID, start: date,
                  days: int, *, platforms: tuple[str, ...] = ("instagram",), per_day: int = 1,
                  brief: str = "", model: str | None = None) -> PlanEstimate:
    """The estimate for what ``submit_generate_plan`` with the same arguments would send.

    Network and cache reads only: call it off the UI thread."""
    request = PlanRequest(start=start, days=max(1, min(days, MAX_DAYS)),
                          platforms=check_platforms(platforms),
                          per_day=max(1, min(per_day, MAX_PER_DAY)), brief=brief.strip())
    chosen = plan_model(studio.settings, model)
    body = plan_body(_influencer(studio, workspace_id, influencer_id), request, chosen,
                     fallback_models(studio.settings))
    base_url = studio.settings.llm.base_url
    cached = ResponseCache.in_folder(studio.paths.cache_dir).get(cache_key(base_url, body)) is not None
    posts = request.days * request.per_day
    max_tokens = plan_max_tokens(request)
    price, note = None, ""
    if not cached:
        try:
            price = model_prices(base_url).get(chosen)
            note = "" if price is not None else f"{chosen} is not in the server's price list"
        except ServiceUnavailable as exc:
            note = str(exc)
    return PlanEstimate(model=chosen, posts=posts, prompt_tokens=prompt_tokens(body),
                        completion_tokens=min(max_tokens, COMPLETION_OVERHEAD + COMPLETION_PER_POST * posts),
                        max_completion_tokens=max_tokens, cached=cached, price=price,
                        price_note=note)


def _influencer(studio: Studio, workspace_id: uuid.UUID, influencer_id: uuid.UUID) -> Influencer:
    with studio.db.session() as session:
        person = session.get(Influencer, influencer_id)
    if person is None or person.workspace_id != workspace_id or person.deleted_at:
        raise NotFound("This influencer no longer exists.")
    return person
