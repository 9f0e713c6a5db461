"""``POST {base}/chat/completions`` in the OpenAI format, as OpenRouter and local servers speak it.

Errors become the job errors the runner understands: rate limits, timeouts, dropped connections
and 5xx are ``TransientError`` (retried here a couple of times first, honouring Retry-After);
a bad key, no credits, moderation or a malformed request are ``JobFailed`` with the server's
own message in one line. OpenRouter can also report an error inside an HTTP 200 body.
The API key only ever goes into the Authorization header; it is in no message or log.

Time is bounded: connecting may take ``CONNECT_S``; the server may stay silent ``READ_S`` while
it writes a long answer (no streaming, so the whole answer comes at once); a ``send`` with its
retries starts nothing after ``CALL_DEADLINE_S`` and cuts an answer still trickling in then.
A request that was sent but never answered (a read timeout, a dropped answer) is not sent
again here: the server may have done, and billed, the work. So a server that accepts and never
answers fails the call after about ``CONNECT_S + READ_S`` (3 minutes 10 s), and no ``send``
lasts longer than ``max_call_s`` (``CALL_DEADLINE_S + READ_S``, 7 minutes).

A cost the server reports that is not a finite number of 0 or more (NaN, negative, text) is
refused: the result says so in ``cost_problem`` and the metered client books its estimate.
"""
from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

import httpx

from studio.engine.config import Settings
from studio.engine.errors import InvalidInput
from studio.engine.jobs.errors import JobFailed, TransientError
from studio.engine.retry_after import retry_after_s
from studio.engine.secrets import SecretStore
from studio.engine.tls import tls_context

SECRET_NAME = "openrouter"
TRANSIENT_STATUS = {408, 429, 500, 502, 503, 504}
CONNECT_S = 10.0
READ_S = 180.0  # the longest silence while a model writes a long answer
CALL_DEADLINE_S = 240.0  # no new try after this, and an answer still coming in is cut here
_MESSAGE_WIDTH = 300


@dataclass(frozen=True, slots=True)
class ChatResult:
    content: str
    model: str  # the model that answered (and is billed), which may be a fallback
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float
    generation_id: str
    finish_reason: str = ""
    cached: bool = False  # answered from the local cache: nothing was sent, nothing paid
    cost_reported: bool = True  # False: the server sent no usable cost (cost_usd is then 0)
    cost_problem: str = ""  # why the server's cost was refused, e.g. "a cost of NaN"


class LLMRefused(JobFailed):
    """The server refused for good (bad key, no credits, moderation, bad request)."""

    def __init__(self, message: str, *, status: int) -> None:
        super().__init__(message)
        self.status = status


class LLMUnavailable(TransientError):
    """Rate limited, overloaded, timed out or unreachable: worth trying again later."""

    def __init__(self, message: str, *, status: int = 0, retry_after: float | None = None,
                 maybe_billed: bool = False) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after
        # The request went out and no answer came back: the server may have billed the work.
        self.maybe_billed = maybe_billed


class LLMClient:
    def __init__(self, base_url: str, api_key: str | None, *, timeout: float = READ_S,
                 deadline_s: float = CALL_DEADLINE_S, transport: httpx.BaseTransport | None = None,
                 retries: int = 2, backoff_s: float = 2.0, max_retry_after_s: float = 30.0,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        """``timeout`` is the longest silence (and connect time, up to ``CONNECT_S``);
        ``deadline_s`` bounds a whole ``send`` with its retries."""
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.deadline_s = deadline_s
        self.retries = retries
        self.backoff_s = backoff_s
        self.max_retry_after_s = max_retry_after_s
        self._sleep = sleep
        self._who = _server_name(self.base_url)
        headers = {"X-Title": "InfluencerAI Studio"}
        if api_key:
            headers["Authorization"] = f"Bearer {api_key}"
        self._http = httpx.Client(timeout=self._timeout(timeout), transport=transport,
                                  headers=headers, verify=tls_context())

    @property
    def max_call_s(self) -> float:
        """The longest one ``send`` can take, retries and a trickling answer included."""
        return self.deadline_s + self.timeout

    def __repr__(self) -> str:  # never the key
        return f"LLMClient({self.base_url!r})"

    def __enter__(self) -> LLMClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def chat(self, messages: Sequence[dict[str, Any]], *, model: str | None = None,
             models: Sequence[str] | None = None, response_format: dict[str, Any] | None = None,
             temperature: float | None = None, max_tokens: int | None = None) -> ChatResult:
        """One completion. ``models`` are fallbacks tried in order after ``model``."""
        return self.send(request_body(messages, model=model, models=models,
                                      response_format=response_format, temperature=temperature,
                                      max_tokens=max_tokens))

    def send(self, body: dict[str, Any]) -> ChatResult:
        """POSTs a body built by ``request_body``, retrying short transient faults that cannot
        have been billed (refused connections, 429, 5xx), within ``deadline_s``."""
        deadline = time.monotonic() + self.deadline_s
        for attempt in range(self.retries + 1):
            try:
                return self._post(body, deadline)
            except LLMUnavailable as exc:
                wait = exc.retry_after if exc.retry_after is not None else self.backoff_s * 2 ** attempt
                if (exc.maybe_billed or attempt == self.retries or wait > self.max_retry_after_s
                        or time.monotonic() + wait >= deadline):
                    raise
                self._sleep(wait)
        raise AssertionError("unreachable")

    def _post(self, body: dict[str, Any], deadline: float) -> ChatResult:
        left = max(0.001, deadline - time.monotonic())
        try:
            with self._http.stream("POST", f"{self.base_url}/chat/completions", json=body,
                                   timeout=self._timeout(min(self.timeout, left))) as response:
                raw = self._read(response, deadline)
        except (httpx.ConnectTimeout, httpx.PoolTimeout, httpx.WriteTimeout) as exc:
            raise LLMUnavailable(f"{self._who} did not answer in time ({type(exc).__name__}).") from exc
        except httpx.TimeoutException as exc:
            raise LLMUnavailable(f"{self._who} did not answer in time (nothing for "
                                 f"{min(self.timeout, left):g} s).", maybe_billed=True) from exc
        except httpx.TransportError as exc:
            reason = _one_line(str(exc)) or type(exc).__name__
            sent = isinstance(exc, httpx.ReadError | httpx.RemoteProtocolError)
            raise LLMUnavailable(f"{self._who} cannot be reached: {reason}.", maybe_billed=sent) from exc
        data = self._json(response, raw)
        error = data.get("error")
        if response.status_code >= 400 or error:
            raise self._error(response, error)
        return _result(data, self._who)

    def _read(self, response: httpx.Response, deadline: float) -> bytes:
        chunks = []
        for chunk in response.iter_bytes():
            chunks.append(chunk)
            if time.monotonic() > deadline:  # a server that trickles its answer
                raise LLMUnavailable(f"{self._who} was still sending its answer after "
                                     f"{self.deadline_s:.0f} s.", maybe_billed=True)
        return b"".join(chunks)

    @staticmethod
    def _timeout(read_s: float) -> httpx.Timeout:
        return httpx.Timeout(read_s, connect=min(CONNECT_S, read_s))

    def _json(self, response: httpx.Response, raw: bytes) -> dict[str, Any]:
        try:
            data = json.loads(raw)
        except ValueError:
            data = None
        if isinstance(data, dict):
            return data
        snippet = _one_line(raw.decode("utf-8", "replace"))[:80]
        detail = f"HTTP {response.status_code}, not JSON: '{snippet}'"
        if response.status_code in TRANSIENT_STATUS or response.status_code >= 500:
            raise LLMUnavailable(f"{self._who} failed ({detail}).", status=response.status_code)
        raise LLMRefused(f"{self._who} answered with something that is not a chat completion "
                         f"({detail}); check llm.base_url.", status=response.status_code)

    def _error(self, response: httpx.Response, error: Any) -> Exception:
        error = error if isinstance(error, dict) else {"message": str(error or "")}
        status = _int(error.get("code")) or response.status_code
        if status < 400:  # an error in a 200 body without a usable code: the generation broke
            status = 502
        message = _one_line(str(error.get("message") or response.reason_phrase or "no reason given")).rstrip(".")
        if status in TRANSIENT_STATUS or status >= 500:
            retry_after = retry_after_s(response.headers.get("retry-after"))
            what = "is rate limiting requests" if status == 429 else "failed"
            return LLMUnavailable(f"{self._who} {what} (HTTP {status}): {message}", status=status,
                                  retry_after=retry_after)
        hint = {401: " Check the key: `influencerai-studio secret set openrouter`.",
                402: " The account is out of credits.",
                403: " The request was refused by moderation."}.get(status, "")
        return LLMRefused(f"{self._who} refused the request (HTTP {status}): {message}.{hint}",
                          status=status)


def client_for(settings: Settings, secrets: SecretStore, **options: Any) -> LLMClient:
    """The client the settings describe (llm.base_url) with the ``openrouter`` secret as key."""
    key = secrets.get(SECRET_NAME)
    if not key and "openrouter.ai" in settings.llm.base_url:
        raise JobFailed("No OpenRouter API key is set; add one with "
                        "`influencerai-studio secret set openrouter` (or point llm.base_url at a "
                        "local OpenAI-compatible server).")
    return LLMClient(settings.llm.base_url, key, **options)


def request_body(messages: Sequence[dict[str, Any]], *, model: str | None = None,
                 models: Sequence[str] | None = None,
                 response_format: dict[str, Any] | None = None, temperature: float | None = None,
                 max_tokens: int | None = None) -> dict[str, Any]:
    """The chat-completions body; also what the cache keys on, so equal requests are equal."""
    fallbacks = [m for m in (models or []) if m]
    primary = model or (fallbacks[0] if fallbacks else "")
    if not primary:
        raise InvalidInput("No model chosen; set one with `settings set llm.model MODEL`.")
    body: dict[str, Any] = {"model": primary, "messages": list(messages)}
    if fallbacks:
        # OpenRouter's list is in priority order and includes the primary model.
        body["models"] = list(dict.fromkeys([primary, *fallbacks]))
    optional = {"response_format": response_format, "temperature": temperature, "max_tokens": max_tokens}
    body.update({k: v for k, v in optional.items() if v is not None})
    return body


def _result(data: dict[str, Any], who: str) -> ChatResult:
    choices = data.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        raise LLMUnavailable(f"{who} sent a completion without choices.", status=502)
    choice = choices[0]
    message = _object(choice.get("message"))
    usage = _object(data.get("usage"))
    cost, problem = _cost(usage.get("cost"))
    return ChatResult(content=_text(message.get("content")), model=str(data.get("model") or ""),
                      prompt_tokens=max(0, _int(usage.get("prompt_tokens"))),
                      completion_tokens=max(0, _int(usage.get("completion_tokens"))),
                      cost_usd=cost or 0.0, generation_id=str(data.get("id") or ""),
                      finish_reason=str(choice.get("finish_reason") or ""),
                      cost_reported=cost is not None, cost_problem=problem)


def _cost(value: Any) -> tuple[float | None, str]:
    """The reported cost, or None and why it was refused ("" when none was reported)."""
    if value is None:
        return None, ""
    shown = _one_line(str(value))[:40]
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None, f"a cost of {shown}, which is not a number"
    try:
        cost = float(value)
    except ValueError:
        return None, f"a cost of '{shown}', which is not a number"
    if not math.isfinite(cost):
        return None, f"a cost of {shown}"
    if cost < 0:
        return None, f"a negative cost ({shown})"
    return cost, ""


def _object(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _text(content: Any) -> str:
    """A plain string, or the text parts of a content list some servers send."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(p.get("text", "") for p in content if isinstance(p, dict))
    return ""


def _server_name(base_url: str) -> str:
    host = urlparse(base_url).netloc or base_url
    return "OpenRouter" if host.endswith("openrouter.ai") else f"The LLM server at {host}"


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError, OverflowError):  # OverflowError: an infinite token count
        return 0


def _one_line(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= _MESSAGE_WIDTH else line[:_MESSAGE_WIDTH - 1] + "…"
