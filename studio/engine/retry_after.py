"""A server's Retry-After, read one way for every client (the LLM, the publishing platforms,
webhook receivers)."""
from __future__ import annotations


def retry_after_s(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header's value; None when absent or not a number (an
    HTTP date: rare from these servers; the caller's own back-off applies)."""
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None
