"""No line in the window asks for a terminal, says "unexpected" or shows a regular expression.

Two checks over the source texts themselves: every string the UI code can show, and every engine
message (the sentences in the engine's source that name a command or say "unexpected") as the
window words it.
"""
from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from studio.engine.llm.budget import BudgetStatus
from studio.ui.error_actions import Action, for_window

ROOT = Path(__file__).resolve().parents[2] / "studio"
COMMAND = re.compile(r"`[^`]+`|influencerai-studio [a-z]")
REGEX_LOOKING = re.compile(r"\[A-Za-z|\[a-z0-9|\\d|\\w|\\s\*|\[\^")
UNEXPECTED = re.compile(r"unexpected", re.IGNORECASE)
NOT_SHOWN_CALLS = {"debug", "info", "warning", "error", "exception", "critical", "compile", "match",
                   "fullmatch", "search", "sub", "subn", "split", "findall", "finditer", "getLogger",
                   "setObjectName", "connect", "Signal", "getattr", "hasattr",
                   "_rule"}  # error_actions: the patterns it rewrites, checked below as engine texts


def rendered(node: ast.expr) -> str | None:
    """A string expression's text, each f-string placeholder as "X"; None for anything else."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(rendered(part) or "X" if not isinstance(part, ast.FormattedValue) else "X"
                       for part in node.values)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = rendered(node.left), rendered(node.right)
        return None if left is None and right is None else (left or "X") + (right or "X")
    return None


def _skipped(tree: ast.AST) -> set[int]:
    """Docstrings and the arguments of logging and regex calls: never shown in the window."""
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                skipped.add(id(body[0].value))
        if isinstance(node, ast.Call):
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if name in NOT_SHOWN_CALLS:
                for inner in (*node.args, *(k.value for k in node.keywords)):
                    skipped.update(id(n) for n in ast.walk(inner))
    return skipped


def texts(folder: Path) -> Iterator[tuple[str, str]]:
    """(file:line, text) of every string expression under ``folder`` that could be shown."""
    for path in sorted(folder.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        skipped, inside = _skipped(tree), set[int]()
        for node in ast.walk(tree):
            if id(node) in skipped or id(node) in inside or not isinstance(node, ast.expr):
                continue
            text = rendered(node)
            if text is not None:
                inside.update(id(n) for n in ast.walk(node))
                yield f"{path.relative_to(ROOT.parent)}:{node.lineno}", text


def test_the_ui_shows_no_command_no_unexpected_and_no_regular_expression() -> None:
    shown = list(texts(ROOT / "ui"))
    assert len(shown) > 1000  # the walk really read the UI's sources
    bad = [(where, text) for where, text in shown
           if COMMAND.search(text) or UNEXPECTED.search(text) or REGEX_LOOKING.search(text)]
    assert bad == []


def whole_command(text: str) -> bool:
    """A command on its own (the budget hint): it is worded inside its sentence, checked below."""
    return text.startswith("`") and text.endswith("`")


def engine_messages() -> list[tuple[str, str]]:
    """The engine's sentences that would break the window's rules as they are written."""
    found = [(where, text) for where, text in texts(ROOT / "engine")
             if (COMMAND.search(text) or UNEXPECTED.search(text)) and not whole_command(text)]
    exceeded = BudgetStatus(workspace="main", month="2026-12", spent_usd=5.0, budget_usd=5.0)
    return [*found, ("BudgetStatus.line", exceeded.line)]


def test_engine_messages_reach_the_window_without_a_command_or_unexpected() -> None:
    messages = engine_messages()
    assert len(messages) > 10  # the budget hint, the retry hint, the settings hints, …
    worded = [(where, for_window(text).text) for where, text in messages]
    bad = [(where, text) for where, text in worded if "`" in text or UNEXPECTED.search(text)
           or "influencerai-studio " in text]
    assert bad == []
    assert all(text.strip() for _, text in worded)


@pytest.mark.parametrize(("engine", "window", "action", "group"), [
    (BudgetStatus(workspace="main", month="2026-12", spent_usd=5.0, budget_usd=5.0).line,
     "Paid calls are refused until next month or until the budget is raised.", Action.RAISE_BUDGET, ""),
    ("No model chosen for auto-captioning; set one with `settings set llm.model MODEL` (a vision model).",
     "No model chosen for auto-captioning; choose one in Settings, LLM (a vision model).",
     Action.OPEN_SETTINGS, "LLM"),
    ("Unexpected error: KeyError: 'seed'", "Something went wrong (KeyError: 'seed'). Details are in the "
     "log folder.", Action.SHOW_LOG, ""),
    ("Abandoned: the worker stopped in the middle of it. `jobs retry 1234` runs it again.",
     "Abandoned: the worker stopped in the middle of it. Retry runs it again.", None, ""),
    ("The file is bad. Run `influencerai-studio frobnicate` to fix it.", "The file is bad.", None, ""),
    ("ComfyUI does not answer at http://gpu-box.lan/: start it or set comfyui.url.",
     "start it or set its address in Settings, ComfyUI.", Action.OPEN_SETTINGS, "ComfyUI"),
])
def test_a_command_becomes_what_to_do_here(engine: str, window: str, action: Action | None,
                                            group: str) -> None:
    message = for_window(engine)
    assert message.text.endswith(window)
    assert (message.action, message.settings_group) == (action, group)
