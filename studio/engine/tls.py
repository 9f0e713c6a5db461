"""One TLS context for every HTTP client the studio opens.

Building one reads the whole CA bundle (about 20 ms of CPU); a generation job opens a client per
image, so each would pay it again, even for ComfyUI over plain http.
"""
from __future__ import annotations

import ssl
import threading

import httpx

_lock = threading.Lock()
_built: list[ssl.SSLContext] = []  # the one context, once built


def tls_context() -> ssl.SSLContext:
    """Built once per process; threads asking at the same time wait for the one build."""
    with _lock:
        if not _built:
            _built.append(httpx.create_ssl_context())
        return _built[0]
