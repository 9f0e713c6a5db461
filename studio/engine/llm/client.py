"""``POST {base}/chat/completions`` in the OpenAI format, as OpenRouter and local servers speak it.

Errors become the job errors the runner understands: rate limits, timeouts, dropped connections
and 5xx are ``TransientError`` (retried here a couple of times first, honouring Retry-After);
a bad key, no credits, moderation or a malformed request are ``JobFailed`` with the server's
own message in one line. OpenRouter can also report an error inside an HTTP 200 body.
The API key only ever goes into the Authorization header; it is in no message or log.
"""
from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

import httpx

from studio.engine.config import Settings
from studio.engine.errors import InvalidInput
from studio.engine.jobs.errors import JobFailed, TransientError
from studio.engine.secrets import SecretStore
from studio.engine.tls import tls_context

SECRET_NAME = "openrouter"
TRANSIENT_STATUS = {408, 429, 500, 502, 503, 504}
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


class LLMRefused(JobFailed):
    """The server refused for good (bad key, no credits, moderation, bad request)."""

    def __init__(self, message: str, *, status: int) -> None:
        super().__init__(message)
        self.status = status


class LLMUnavailable(TransientError):
    """Rate limited, overloaded, timed out or unreachable: worth trying again later."""

    def __init__(self, message: str, *, status: int = 0, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


class LLMClient:
    def __init__(self, base_url: str, api_key: str | None, *, timeout: float = 60,
                 transport: httpx.BaseTransport | None = None, retries: int = 2,
                 backoff_s: float = 2.0, max_retry_after_s: float = 30.0,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.base_url = base_url.rstrip("/")
        self.retries = retries
        self.backoff_s = backoff_s
        self.max_retry_after_s = max_retry_after_s
        self._sleep = sleep
        self._who = _server_name(self.base_url)
        headers = {"X-Title": "InfluencerAI Studio"}
        if api_key:
            headers["Authorization"] = f"Bearer {api_key}"
        self._http = httpx.Client(timeout=timeout, transport=transport, headers=headers,
                                  verify=tls_context())

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
        """POSTs a body built by ``request_body``, retrying short transient faults."""
        for attempt in range(self.retries + 1):
            try:
                return self._post(body)
            except LLMUnavailable as exc:
                wait = exc.retry_after if exc.retry_after is not None else self.backoff_s * 2 ** attempt
                if attempt == self.retries or wait > self.max_retry_after_s:
                    raise
                self._sleep(wait)
        raise AssertionError("unreachable")

    def _post(self, body: dict[str, Any]) -> ChatResult:
        try:
            response = self._http.post(f"{self.base_url}/chat/completions", json=body)
        except httpx.TimeoutException as exc:
            raise LLMUnavailable(f"{self._who} did not answer in time ({type(exc).__name__}).") from exc
        except httpx.TransportError as exc:
            reason = _one_line(str(exc)) or type(exc).__name__
            raise LLMUnavailable(f"{self._who} cannot be reached: {reason}.") from exc
        data = self._json(response)
        error = data.get("error")
        if response.status_code >= 400 or error:
            raise self._error(response, error)
        return _result(data, self._who)

    def _json(self, response: httpx.Response) -> dict[str, Any]:
        try:
            data = response.json()
        except ValueError:
            data = None
        if isinstance(data, dict):
            return data
        snippet = _one_line(response.text)[:80]
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
            retry_after = _retry_after(response.headers.get("retry-after"))
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
    return ChatResult(content=_text(message.get("content")), model=str(data.get("model") or ""),
                      prompt_tokens=_int(usage.get("prompt_tokens")),
                      completion_tokens=_int(usage.get("completion_tokens")),
                      cost_usd=_float(usage.get("cost")), generation_id=str(data.get("id") or ""),
                      finish_reason=str(choice.get("finish_reason") or ""))


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


def _retry_after(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None  # an HTTP date: rare here; the normal back-off applies


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def _float(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0


def _one_line(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= _MESSAGE_WIDTH else line[:_MESSAGE_WIDTH - 1] + "…"
