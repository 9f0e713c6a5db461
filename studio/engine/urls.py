"""Passwords travel apart from URLs: settings keep the URL without it, the keyring keeps it."""
from __future__ import annotations

from urllib.parse import quote, unquote, urlsplit, urlunsplit


def split_password(url: str) -> tuple[str, str | None]:
    """``scheme://user:pw@host/db`` → (``scheme://user@host/db``, ``pw``)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url, None
    user = quote(unquote(parts.username or ""), safe="")
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{user}@{host}" if user else host
    if parts.port is not None:
        netloc += f":{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment)), unquote(parts.password)


def with_password(url: str, password: str | None) -> str:
    """Puts ``password`` into a URL that has none; a URL that carries one keeps its own."""
    if not password or not url:
        return url
    parts = urlsplit(url)
    if parts.password is not None:
        return url
    user = parts.username or ""
    host_part = parts.netloc.rsplit("@", 1)[-1]
    netloc = f"{user}:{quote(password, safe='')}@{host_part}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def redact(url: str) -> str:
    """For reports and logs: the password, if any, replaced by ***."""
    bare, password = split_password(url)
    return with_password(bare, "***").replace("%2A%2A%2A", "***") if password else url


def with_user(url: str, user: str) -> str:
    """The same URL for another role (and without any password)."""
    bare, _ = split_password(url)
    parts = urlsplit(bare)
    host_part = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit((parts.scheme, f"{quote(user, safe='')}@{host_part}", parts.path, parts.query,
                       parts.fragment))
