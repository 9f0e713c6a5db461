"""A webhook receiver as n8n's Webhook node (or any small HTTP endpoint) is one: a real HTTP
server on 127.0.0.1 (a free port) that records every request as it came (method, path, headers,
raw body) and answers from a scripted list of statuses, the last one for every later request.

    with WebhookReceiver(statuses=[500, 200]) as receiver:
        add_webhook(..., url=receiver.url("/hook"))
        ...
        [first, second] = receiver.received
"""
from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True, slots=True)
class Received:
    method: str
    path: str
    headers: dict[str, str]  # names lower-cased
    raw: bytes

    def json(self) -> Any:
        return json.loads(self.raw)


class WebhookReceiver:
    def __init__(self, statuses: Sequence[int] = (200,), *, headers: dict[str, str] | None = None) -> None:
        self.statuses = list(statuses) or [200]
        self.extra_headers = dict(headers or {})  # on every non-2xx answer (e.g. Retry-After)
        self.received: list[Received] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        # polls for shutdown every 20 ms, not 0.5 s: each test that closes one waits for that poll
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.02,), daemon=True)

    def url(self, path: str = "/webhook") -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}{path}"

    def __enter__(self) -> WebhookReceiver:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _answer(self, request: Received) -> int:
        with self._lock:
            self.received.append(request)
            index = min(len(self.received), len(self.statuses)) - 1
            return self.statuses[index]

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                status = receiver._answer(Received("POST", self.path,
                                                   {k.lower(): v for k, v in self.headers.items()}, raw))
                # n8n answers {"message": "Workflow was started"} when the workflow takes the call
                text = b'{"message":"Workflow was started"}' if status < 300 else b'{"message":"failed"}'
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(text)))
                for name, value in ([] if status < 300 else receiver.extra_headers.items()):
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(text)

            def log_message(self, *_args: object) -> None:
                pass

        return Handler
