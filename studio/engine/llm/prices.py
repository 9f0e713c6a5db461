"""What a chat request can cost at most, from the server's own price list.

The price per token is the server's, from ``GET {base}/models`` (OpenRouter lists ``pricing``
in USD per token as strings); a model it does not price, or a server without that list, has no
price here, never a guess. The list is kept a few minutes per server and process; a server that
has none is asked again only after the same while.

The most a request can cost is its prompt (about four characters per token, a fixed share per
image) at the prompt price plus a full ``max_tokens`` answer at the completion price, taken for
the dearest of the models it may be served by (the fallbacks too). The budget reserves this
amount before the request is sent.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from studio.engine.errors import ServiceUnavailable
from studio.engine.tls import tls_context

CHARS_PER_TOKEN = 4.0  # BPE tokenizers average about this on English and German JSON
TOKENS_PER_IMAGE = 1600  # a 1024 px image costs vision models about 800 to 1600 tokens
DEFAULT_MAX_TOKENS = 4096  # what an answer may run to when a request sets no max_tokens
PRICES_TTL_S = 600.0  # the list is large (hundreds of models) and prices change rarely
PRICES_TIMEOUT_S = 15.0

_prices: dict[str, tuple[float, dict[str, ModelPrice], str]] = {}
_prices_lock = threading.Lock()


@dataclass(frozen=True, slots=True)
class ModelPrice:
    prompt: float  # USD per token
    completion: float
    request: float = 0.0  # USD per call
    image: float = 0.0  # USD per input image


def prompt_tokens(body: Mapping[str, Any]) -> int:
    """The messages and the schema (structured outputs put it in the prompt), by length; an
    image counts as a fixed number of tokens, not as the length of its base64 text."""
    text = ""
    for message in body.get("messages", []):
        content = message.get("content", "")
        if isinstance(content, list):
            text += "".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
        else:
            text += str(content)
    text += str(body.get("response_format", ""))
    return (int(len(text) / CHARS_PER_TOKEN) + 4 * len(body.get("messages", []))
            + TOKENS_PER_IMAGE * image_count(body))


def image_count(body: Mapping[str, Any]) -> int:
    return sum(1 for m in body.get("messages", []) if isinstance(m.get("content"), list)
               for p in m["content"] if isinstance(p, dict) and p.get("type") == "image_url")


def max_cost(body: Mapping[str, Any], prices: Mapping[str, ModelPrice]) -> float | None:
    """The most the request can cost, or None when a model that may serve it has no price."""
    models = list(dict.fromkeys([str(body.get("model") or ""), *body.get("models", [])]))
    known = [prices.get(m) for m in models if m]
    if not known or any(p is None for p in known):
        return None
    tokens_in = prompt_tokens(body)
    tokens_out = int(body.get("max_tokens") or DEFAULT_MAX_TOKENS)
    images = image_count(body)
    return max(tokens_in * p.prompt + tokens_out * p.completion + p.request + images * p.image
               for p in known if p is not None)


def model_prices(base_url: str) -> dict[str, ModelPrice]:
    """The server's prices per model id, kept for a few minutes per server; raises
    ``ServiceUnavailable`` (with the reason) when the server has no usable list."""
    key = base_url.rstrip("/")
    with _prices_lock:
        known = _prices.get(key)
    if known is None or time.monotonic() - known[0] >= PRICES_TTL_S:
        try:
            known = (time.monotonic(), fetch_prices(key), "")
        except ServiceUnavailable as exc:
            known = (time.monotonic(), {}, str(exc))
        with _prices_lock:
            _prices[key] = known
    if known[2]:
        raise ServiceUnavailable(known[2])
    return known[1]


def known_prices(base_url: str) -> dict[str, ModelPrice]:
    """As ``model_prices``, with no list being no prices."""
    try:
        return model_prices(base_url)
    except ServiceUnavailable:
        return {}


def clear_price_cache() -> None:
    """Forget the kept price lists (after the user changed servers, and for tests)."""
    with _prices_lock:
        _prices.clear()


def fetch_prices(base_url: str) -> dict[str, ModelPrice]:
    """``GET {base}/models``; a model priced below zero (a router that bills what it picks) is
    left out, as is one without prices. No key is sent: the list is public."""
    url = f"{base_url.rstrip('/')}/models"
    try:
        with httpx.Client(timeout=PRICES_TIMEOUT_S, verify=tls_context()) as http:
            response = http.get(url)
    except httpx.HTTPError as exc:
        raise ServiceUnavailable(f"the price list at {url} cannot be read: "
                                 f"{str(exc).strip() or type(exc).__name__}") from exc
    if response.status_code != 200:
        raise ServiceUnavailable(f"the server has no price list (HTTP {response.status_code} "
                                 f"from {url})")
    try:
        listing = response.json().get("data")
    except (ValueError, AttributeError):
        listing = None
    if not isinstance(listing, list):
        raise ServiceUnavailable(f"{url} did not answer with a model list")
    prices = {}
    for entry in listing:
        price = _price(entry.get("pricing") if isinstance(entry, dict) else None)
        if price is not None:
            prices[str(entry.get("id"))] = price
    return prices


def _price(pricing: Any) -> ModelPrice | None:
    if not isinstance(pricing, dict):
        return None
    try:
        price = ModelPrice(prompt=float(pricing["prompt"]), completion=float(pricing["completion"]),
                           request=float(pricing.get("request") or 0),
                           image=float(pricing.get("image") or 0))
    except (KeyError, TypeError, ValueError):
        return None
    values = (price.prompt, price.completion, price.request, price.image)
    if not all(0 <= v < float("inf") for v in values):  # also leaves out NaN
        return None
    return price
