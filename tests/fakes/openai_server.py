"""A real HTTP server speaking OpenRouter's OpenAI-compatible chat-completions format.

Shapes follow ../shared/PROTOCOLS.md: a completion has ``id`` "gen-…", the serving ``model``,
``choices[{finish_reason, native_finish_reason, message{role, content}}]`` and ``usage`` with
``cost``; errors are ``{"error": {"code", "message", "metadata"}}`` with the HTTP status, and an
error can also come inside an HTTP 200. Tests script the replies in order and read back the
chat requests the server got (``received``; GET requests are in ``listings``); when the script
is used up, every request gets ``default`` (``answer_always`` sets it, with a delay for a
server that answers slowly, or ``silent`` for one that accepts and never answers).
``GET …/models`` lists the models given to ``priced`` with their ``pricing`` (USD per token,
as strings), the way OpenRouter's model list does.

    with FakeOpenAI() as server:
        server.rate_limited(retry_after="0")
        server.success("sks, red dress", cost=0.0012)
        client = LLMClient(server.base_url, "sk-or-test")
"""
from __future__ import annotations

import itertools
import json
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

_ids = itertools.count(1)


@dataclass(frozen=True, slots=True)
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: Any  # parsed JSON, or the raw text when it was not JSON

    def image_urls(self) -> list[str]:
        urls = []
        for message in self.body.get("messages", []):
            content = message.get("content")
            if isinstance(content, list):
                urls += [p["image_url"]["url"] for p in content if p.get("type") == "image_url"]
        return urls

    def text_parts(self) -> list[str]:
        parts = []
        for message in self.body.get("messages", []):
            content = message.get("content")
            if isinstance(content, str):
                parts.append(content)
            elif isinstance(content, list):
                parts += [p["text"] for p in content if p.get("type") == "text"]
        return parts


@dataclass(slots=True)
class Reply:
    status: int = 200
    body: Any = None  # dict → JSON; str/bytes → sent as they are; None → a completion
    headers: dict[str, str] = field(default_factory=dict)
    content: str = "a caption"
    model: str | None = None  # None: the model that was asked for
    cost: Any = 0.0004  # a number, or what a broken server sends (NaN, "abc", -20, None)
    prompt_tokens: int = 1210
    completion_tokens: int = 18
    delay_s: float = 0.0
    # Builds the content from the request body, for answers that depend on what was asked.
    respond: Callable[[dict[str, Any]], str] | None = None
    finish_reason: str = "stop"  # "length" when the answer hit max_tokens


def completion(model: str, content: str, *, cost: Any, prompt_tokens: int,
               completion_tokens: int, finish_reason: str = "stop") -> dict[str, Any]:
    """``cost`` is sent as given: a number, or NaN, a string or None, as a broken server might."""
    share = cost if isinstance(cost, int | float) and not isinstance(cost, bool) else 0.0
    return {
        "id": f"gen-{int(time.time())}-{next(_ids):08d}fake", "provider": "FakeProvider",
        "model": model, "object": "chat.completion", "created": int(time.time()),
        "choices": [{"logprobs": None, "finish_reason": finish_reason, "native_finish_reason": finish_reason,
                     "index": 0, "message": {"role": "assistant", "content": content,
                                             "refusal": None, "reasoning": None}}],
        "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                  "total_tokens": prompt_tokens + completion_tokens, "cost": cost, "is_byok": False,
                  "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
                  "cost_details": {"upstream_inference_cost": None,
                                   "upstream_inference_prompt_cost": share * 0.8,
                                   "upstream_inference_completions_cost": share * 0.2},
                  "completion_tokens_details": {"reasoning_tokens": 0, "image_tokens": 0}},
    }


def error_body(code: int, message: str, metadata: dict[str, Any] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"error": {"code": code, "message": message}}
    if metadata is not None:
        body["error"]["metadata"] = metadata
    return body


class FakeOpenAI:
    def __init__(self) -> None:
        self.received: list[Received] = []  # chat requests (POST)
        self.listings: list[Received] = []  # GET requests (the model list)
        self.models: list[dict[str, Any]] = []  # what GET /models lists
        self.default = Reply()  # the answer once the scripted replies are used up
        self._silence = threading.Event()  # set: hold every request until close()
        self._replies: deque[Reply] = deque()
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.02,), daemon=True)
        self._thread.start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/api/v1"

    def __enter__(self) -> FakeOpenAI:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._silence.set()
        self._server.shutdown()
        self._server.server_close()

    # Scripting --------------------------------------------------------------------------------

    def reply(self, reply: Reply) -> FakeOpenAI:
        with self._lock:
            self._replies.append(reply)
        return self

    def success(self, content: str = "a caption", **options: Any) -> FakeOpenAI:
        return self.reply(Reply(content=content, **options))

    def rate_limited(self, retry_after: str | None = "1") -> FakeOpenAI:
        headers = {"Retry-After": retry_after} if retry_after is not None else {}
        return self.reply(Reply(429, error_body(429, "Rate limit exceeded: free-models-per-min."),
                                headers))

    def server_error(self, status: int = 500, message: str = "Internal Server Error") -> FakeOpenAI:
        return self.reply(Reply(status, error_body(status, message)))

    def error(self, status: int, message: str, metadata: dict[str, Any] | None = None) -> FakeOpenAI:
        return self.reply(Reply(status, error_body(status, message, metadata)))

    def error_in_200(self, message: str = "Provider returned error", code: int = 502) -> FakeOpenAI:
        return self.reply(Reply(200, error_body(code, message, {"provider_name": "FakeProvider"})))

    def malformed(self, text: str = "<html><body>Bad gateway</body></html>",
                  status: int = 200) -> FakeOpenAI:
        return self.reply(Reply(status, text, {"Content-Type": "text/html"}))

    def success_json(self, value: Any, **options: Any) -> FakeOpenAI:
        return self.reply(Reply(content=json.dumps(value), **options))

    def answer_with(self, respond: Callable[[dict[str, Any]], Any], **options: Any) -> FakeOpenAI:
        """``respond(body)`` gives the content: a string as it is, anything else as JSON."""
        def content(body: dict[str, Any]) -> str:
            value = respond(body)
            return value if isinstance(value, str) else json.dumps(value)
        return self.reply(Reply(respond=content, **options))

    def invalid_json(self, text: str = '{"items": [{"date": "2026-12-01", "topic": ',
                     **options: Any) -> FakeOpenAI:
        """A model that breaks off mid-object (as with finish_reason "length" or a weak model)."""
        return self.reply(Reply(content=text, **options))

    def priced(self, model: str, prompt: str, completion: str, request: str = "0") -> FakeOpenAI:
        """Lists ``model`` in GET /models with these per-token prices (strings, as sent)."""
        self.models.append({
            "id": model, "canonical_slug": model, "name": model, "created": int(time.time()),
            "description": "", "context_length": 128000,
            "architecture": {"modality": "text->text", "input_modalities": ["text"],
                             "output_modalities": ["text"], "tokenizer": "GPT"},
            "pricing": {"prompt": prompt, "completion": completion, "request": request,
                        "image": "0", "web_search": "0", "internal_reasoning": "0"},
            "top_provider": {"context_length": 128000, "max_completion_tokens": 16384,
                             "is_moderated": True},
            "per_request_limits": None,
            "supported_parameters": ["max_tokens", "temperature", "response_format",
                                     "structured_outputs"]})
        return self

    def slow(self, seconds: float) -> FakeOpenAI:
        return self.reply(Reply(delay_s=seconds))

    def answer_always(self, content: str = "a caption", *, delay_s: float = 0.0,
                      **options: Any) -> FakeOpenAI:
        """Every request after the scripted ones gets this answer, ``delay_s`` late."""
        self.default = Reply(content=content, delay_s=delay_s, **options)
        return self

    def silent(self) -> FakeOpenAI:
        """Accepts every request and never answers (until the server is closed)."""
        self.default = Reply(delay_s=-1.0)
        return self

    # Serving ----------------------------------------------------------------------------------

    def _next(self) -> Reply:
        with self._lock:
            return self._replies.popleft() if self._replies else self.default

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                fake.listings.append(Received("GET", self.path, dict(self.headers.items()), None))
                if self.path.split("?")[0].endswith("/models"):
                    return self._send(200, {"data": list(fake.models)}, {})
                self._send(404, error_body(404, "Not Found"), {})

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode("utf-8")
                try:
                    body: Any = json.loads(raw)
                except ValueError:
                    body = raw
                fake.received.append(Received("POST", self.path, dict(self.headers.items()), body))
                if not self.path.endswith("/chat/completions"):
                    return self._send(404, error_body(404, "Not Found"), {})
                reply = fake._next()
                if reply.delay_s < 0:
                    fake._silence.wait()
                    return
                if reply.delay_s:
                    time.sleep(reply.delay_s)
                payload = reply.body
                if payload is None:
                    asked = body.get("model", "") if isinstance(body, dict) else ""
                    content = reply.respond(body) if reply.respond is not None else reply.content
                    payload = completion(reply.model or asked, content, cost=reply.cost,
                                         prompt_tokens=reply.prompt_tokens,
                                         completion_tokens=reply.completion_tokens,
                                         finish_reason=reply.finish_reason)
                self._send(reply.status, payload, reply.headers)

            def _send(self, status: int, payload: Any, headers: dict[str, str]) -> None:
                data = payload if isinstance(payload, bytes) else (
                    payload.encode() if isinstance(payload, str) else json.dumps(payload).encode())
                self.send_response(status)
                self.send_header("Content-Type", headers.get("Content-Type", "application/json"))
                self.send_header("Content-Length", str(len(data)))
                for key, value in headers.items():
                    if key != "Content-Type":
                        self.send_header(key, value)
                self.end_headers()
                try:
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout test)

        return Handler
