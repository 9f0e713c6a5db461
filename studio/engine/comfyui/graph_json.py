"""Reading workflow JSON with a bound on nesting.

A ComfyUI graph is a few levels deep (node, inputs, a value or a link ``[node, output]``). A file
nested thousands of levels deep stops Python's JSON decoder with a RecursionError, and one just
under that limit stops whatever walks it next (copying, filling, saving). Both are refused here
as plain bad input.
"""
from __future__ import annotations

import json
from typing import Any

MAX_DEPTH = 64


class TooDeep(ValueError):
    """JSON nested past MAX_DEPTH; the message says so in plain words."""


def loads(text: str) -> Any:
    """``json.loads`` that refuses nesting past MAX_DEPTH (TooDeep, a ValueError)."""
    try:
        value = json.loads(text)
    except RecursionError:
        raise TooDeep(f"nested more than {MAX_DEPTH} levels deep") from None
    if depth(value) > MAX_DEPTH:
        raise TooDeep(f"nested more than {MAX_DEPTH} levels deep")
    return value


def depth(value: Any) -> int:
    """How deeply lists and objects nest in ``value`` (a scalar is 0), without recursion."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            item = list(item.values())
        if isinstance(item, list):
            deepest = max(deepest, level + 1)
            if level + 1 <= MAX_DEPTH:  # past it the answer is known: no need to walk on
                stack.extend((child, level + 1) for child in item)
    return deepest
