"""``spend [--month YYYY-MM]`` and ``spend budget USD|none``: LLM cost against the budget."""
from __future__ import annotations

import argparse
from datetime import date
from typing import TYPE_CHECKING

from studio.cli.common import COMMON, EXIT_OK, SCOPED, UsageError, add_action, workspace_of
from studio.cli.output import print_json, print_table

if TYPE_CHECKING:
    from studio.engine.core import Studio
    from studio.engine.llm.budget import BudgetStatus, SpendRow


def register(verbs: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    help_ = "LLM cost this month per model and influencer, against the workspace's budget"
    parser = verbs.add_parser("spend", help=help_, description=help_, parents=[COMMON, SCOPED])
    parser.set_defaults(func=show_spend)
    parser.add_argument("--month", metavar="YYYY-MM", help="another month (default: this one, UTC)")
    actions = parser.add_subparsers(dest="action", metavar="ACTION")
    budget = add_action(actions, "budget", "set the workspace's monthly LLM budget", set_budget_cmd,
                        scoped=True)
    budget.add_argument("usd", metavar="USD", help="amount in US dollars, or 'none' for no limit")


def show_spend(studio: Studio, args: argparse.Namespace) -> int:
    from studio.engine.llm.budget import budget_status, spend_by
    workspace = workspace_of(studio, args)
    day = _month(args.month)
    status = budget_status(studio.db, workspace.id, day)
    groups = {what: spend_by(studio.db, workspace.id, what, day)
              for what in ("model", "influencer", "day")}
    if args.json:
        print_json({**_status_fields(status),
                    **{f"by_{what}": [_row_fields(r) for r in rows] for what, rows in groups.items()}})
        return EXIT_OK
    print(status.line)
    for what in ("model", "influencer"):
        print()
        print_table([what, "calls", "cached", "tokens in", "tokens out", "cost"],
                    [[r.key or "(none)", r.calls, r.cached_calls, r.prompt_tokens,
                      r.completion_tokens, _usd(r.cost_usd)] for r in groups[what]],
                    empty=f"no LLM calls in {status.month}")
    return EXIT_OK


def set_budget_cmd(studio: Studio, args: argparse.Namespace) -> int:
    from studio.engine.llm.budget import set_budget
    workspace = workspace_of(studio, args)
    text = args.usd.strip().lstrip("$")
    if text.lower() in ("none", "off"):
        usd = None
    else:
        try:
            usd = float(text)
        except ValueError:
            raise UsageError(f"'{args.usd}' is not an amount; give USD such as 25 or 7.50, "
                             "or 'none'.") from None
    status = set_budget(studio.db, workspace.id, usd)
    if args.json:
        print_json(_status_fields(status))
    else:
        print(status.line)
    return EXIT_OK


def _month(text: str | None) -> date | None:
    if not text:
        return None
    try:
        year, month = (int(p) for p in text.split("-"))
        return date(year, month, 1)
    except ValueError:
        raise UsageError(f"'{text}' is not a month; write it as YYYY-MM, e.g. 2026-11.") from None


def _status_fields(status: BudgetStatus) -> dict[str, object]:
    return {"workspace": status.workspace, "month": status.month,
            "spent_usd": round(status.spent_usd, 8), "budget_usd": status.budget_usd,
            "level": status.level, "message": status.line}


def _row_fields(row: SpendRow) -> dict[str, object]:
    return {"key": row.key, "calls": row.calls, "cached_calls": row.cached_calls,
            "prompt_tokens": row.prompt_tokens, "completion_tokens": row.completion_tokens,
            "cost_usd": round(row.cost_usd, 8)}


def _usd(value: float) -> str:
    return f"${value:.4f}" if value < 1 else f"${value:.2f}"
