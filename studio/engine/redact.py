"""Secrets out of everything the studio stores or shows: logs, job errors and results, CLI output.

Two kinds of secret are taken out. Known ones: every value the secret store read or wrote in
this process, the studio's stored secrets by name (loaded once, on the first redaction), and the
``INFLUENCERAI_SECRET_*`` environment values. And anything shaped like one, because a server
echoes keys this process never saw: ``sk-…`` API keys, ``Bearer`` tokens, ``Authorization:``
values, labelled API keys, passwords and AWS secret keys, and passwords inside URLs.
"""
from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable, Iterable
from typing import Any

REDACTED = "***"
ENV_PREFIX = "INFLUENCERAI_SECRET_"
# A shorter secret is only taken out where it stands alone: as a substring it would mangle words.
_SHORT = 8
_MIN = 4

Source = Callable[[], Iterable[str | None]]

_secrets: set[str] = set()
_sources: list[Source] = []
_lock = threading.Lock()

_URL_PASSWORD = re.compile(r"(\b[A-Za-z][A-Za-z0-9+.\-]*://[^\s/:@\"'<>]*:)([^\s@/\"'<>]+)(?=@)")
_AUTHORIZATION = re.compile(
    r"(?i)(\b(?:proxy-)?authorization[\"']?\s*[:=]\s*[\"']?(?:(?:bearer|basic|token|digest)\s+)?)"
    r"([^\s\"',;}]+)")
_BEARER = re.compile(r"(?i)(\bbearer\s+)(?=[A-Za-z._~+/=\-]*[0-9])([A-Za-z0-9._~+/=\-]{8,})")
_LABELLED = re.compile(
    r"(?i)(\b(?:aws_)?(?:x-)?(?:api[_-]?key|secret[_-]?(?:access[_-]?)?key|client[_-]?secret|"
    r"access[_-]?token|refresh[_-]?token|password|passwd)[\"']?\s*[:=]\s*[\"']?)([^\s\"',;&}]+)")
_SHAPED = re.compile(
    r"\b(?:sk-[A-Za-z0-9_\-]{8,}|hf_[A-Za-z0-9]{20,}|gh[pousr]_[A-Za-z0-9]{20,}|"
    r"github_pat_[A-Za-z0-9_]{20,}|xox[abpr]-[A-Za-z0-9\-]{10,}|(?:AKIA|ASIA)[0-9A-Z]{16}|"
    r"eyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,})")
_SECRET_KEYS = re.compile(
    r"(?i)^(?:x[_-])?(?:authorization|proxy[_-]authorization|api[_-]?key|password|passwd|secret|"
    r"(?:aws[_-])?secret[_-]?(?:access[_-]?)?key|client[_-]?secret|access[_-]?token|"
    r"refresh[_-]?token)$")


def register_secret(value: str | None) -> None:
    """A value read from or written to the secret store: taken out of everything from now on."""
    if value and len(value.strip()) >= _MIN:
        with _lock:
            _secrets.add(value.strip())


def register_source(source: Source) -> None:
    """Where the stored secrets can be read; read once, when something is first redacted."""
    with _lock:
        _sources.append(source)


def redact(text: str, *, url_passwords: bool = True) -> str:
    """``text`` without any known secret or secret-shaped value; each becomes ``***``."""
    if not text:
        return text
    for secret in _known():
        text = _without(text, secret)
    if url_passwords:
        text = _URL_PASSWORD.sub(rf"\1{REDACTED}", text)
    text = _AUTHORIZATION.sub(rf"\1{REDACTED}", text)
    text = _BEARER.sub(rf"\1{REDACTED}", text)
    text = _LABELLED.sub(_keep_redacted, text)
    return _SHAPED.sub(REDACTED, text)


def redact_value(value: Any, *, url_passwords: bool = True) -> Any:
    """A JSON-like value with every string redacted, and the whole value of a key named like a
    secret (``api_key``, ``Authorization``, ``password``…) replaced."""
    if isinstance(value, str):
        return redact(value, url_passwords=url_passwords)
    if isinstance(value, dict):
        return {k: REDACTED if _is_secret_key(k, v) else redact_value(v, url_passwords=url_passwords)
                for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact_value(v, url_passwords=url_passwords) for v in value]
    return value


def _is_secret_key(key: object, value: object) -> bool:
    return isinstance(key, str) and isinstance(value, str) and bool(value) and \
        _SECRET_KEYS.match(key) is not None


def _keep_redacted(match: re.Match[str]) -> str:
    return match.group(1) + REDACTED


def _without(text: str, secret: str) -> str:
    if secret not in text:
        return text
    if len(secret) >= _SHORT:
        return text.replace(secret, REDACTED)
    return re.sub(rf"(?<![A-Za-z0-9]){re.escape(secret)}(?![A-Za-z0-9])", REDACTED, text)


def _known() -> list[str]:
    """Registered, stored and environment secrets, the longest first (so none leaves a tail)."""
    with _lock:
        pending = list(_sources)
        _sources.clear()
    for source in pending:
        _load(source)
    from_env = (v.strip() for k, v in os.environ.items() if k.startswith(ENV_PREFIX))
    with _lock:
        known = _secrets | {v for v in from_env if len(v) >= _MIN}
    return sorted(known, key=len, reverse=True)


def _load(source: Source) -> None:
    try:
        values = list(source())
    except Exception:  # an unreadable keyring must not stop a job from recording its end
        return
    for value in values:
        register_secret(value)
