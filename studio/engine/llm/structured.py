"""Chat completions whose answer must be JSON matching a schema.

The request asks for OpenRouter's strict ``json_schema`` response format, but not every model
or local server honours it, so the answer is always parsed and validated here (jsonschema).
A bad answer gets ONE more try that shows the model its own answer and what was wrong with it;
a second bad answer fails the job with the first problem named. Both calls are paid for, so
the caller's ``send`` records each one.
"""
from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from jsonschema import Draft202012Validator

from studio.engine.jobs.errors import JobFailed
from studio.engine.llm.client import ChatResult, request_body

Send = Callable[[dict[str, Any]], ChatResult]
Check = Callable[[Any], list[str]]  # problems a schema cannot express (dates in range, counts)

MAX_PROBLEMS_SHOWN = 8
_FENCE = re.compile(r"^\s*```(?:json)?\s*\n?(.*?)\n?\s*```\s*$", re.DOTALL | re.IGNORECASE)


class LLMBadOutput(JobFailed):
    """The model answered twice with JSON that does not fit the schema."""


@dataclass(frozen=True, slots=True)
class StructuredResult:
    value: Any
    calls: tuple[ChatResult, ...]  # one, or two when the first answer was sent back

    @property
    def cost_usd(self) -> float:
        return sum(c.cost_usd for c in self.calls)

    @property
    def retried(self) -> bool:
        return len(self.calls) > 1


def response_format(name: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"type": "json_schema", "json_schema": {"name": name, "strict": True, "schema": schema}}


def problems(content: str, validator: Draft202012Validator, check: Check | None = None,
             finish_reason: str = "") -> tuple[Any, list[str]]:
    """The parsed value and what is wrong with it (nothing when it is valid)."""
    try:
        value = json.loads(_unfenced(content))
    except ValueError as exc:
        cut = " (the answer was cut off at max_tokens)" if finish_reason == "length" else ""
        return None, [f"the answer is not valid JSON{cut}: {exc}"]
    found = [f"at {_where(e.absolute_path)}: {e.message}"
             for e in sorted(validator.iter_errors(value), key=lambda e: list(map(str, e.path)))]
    if not found and check is not None:
        found = check(value)
    return value, found


def complete_json(send: Send, messages: Sequence[dict[str, Any]], schema: dict[str, Any], *,
                  name: str, model: str | None = None, models: Sequence[str] | None = None,
                  temperature: float | None = None, max_tokens: int | None = None,
                  check: Check | None = None,
                  on_invalid: Callable[[dict[str, Any]], None] | None = None) -> StructuredResult:
    """``on_invalid`` gets both requests when the answer stays bad (the cache forgets them, so
    a re-run asks again); after a good second answer both stay, so a re-run replays for free."""
    Draft202012Validator.check_schema(schema)  # a broken schema is a bug here, not the model's
    validator = Draft202012Validator(schema)
    body_of = functools.partial(request_body, model=model, models=models, temperature=temperature,
                                max_tokens=max_tokens, response_format=response_format(name, schema))
    body = body_of(messages)
    first = send(body)
    value, found = problems(first.content, validator, check, first.finish_reason)
    if not found:
        return StructuredResult(value, (first,))
    retry = [*messages, {"role": "assistant", "content": first.content},
             {"role": "user", "content": _correction(found)}]
    retry_body = body_of(retry)
    second = send(retry_body)
    value, again = problems(second.content, validator, check, second.finish_reason)
    if not again:
        return StructuredResult(value, (first, second))
    if on_invalid is not None:
        on_invalid(body)
        on_invalid(retry_body)
    more = f" (and {len(again) - 1} more problems)" if len(again) > 1 else ""
    raise LLMBadOutput(f"The model {second.model or model} answered twice with {name} JSON that "
                       f"does not fit the schema: {again[0]}{more}.")


def _correction(found: list[str]) -> str:
    shown = found[:MAX_PROBLEMS_SHOWN]
    extra = f"\n- and {len(found) - len(shown)} more" if len(found) > len(shown) else ""
    listing = "\n".join(f"- {p}" for p in shown)
    return ("Your answer does not match the required JSON schema:\n" + listing + extra +
            "\nAnswer again with the complete corrected JSON only, no other text.")


def _unfenced(content: str) -> str:
    # Some models wrap JSON in a Markdown code fence even when asked for JSON only.
    match = _FENCE.match(content)
    return match.group(1) if match else content


def _where(path: Sequence[Any]) -> str:
    text = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path).lstrip(".")
    return text or "the top level"
