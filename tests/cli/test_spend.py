"""spend verbs in process: this month's cost per model and influencer against the budget."""
from __future__ import annotations

from datetime import date

from studio.engine.core import Studio
from studio.engine.db.models import LLMCall
from studio.engine.influencers import Persona, create_influencer
from studio.engine.llm.budget import month_bounds, today_utc
from tests.cli.conftest import Cli, one_error_line


def _calls(studio: Studio) -> None:
    workspace = studio.workspace()
    mia = create_influencer(studio, workspace.id, Persona(name="Mia", trigger_word="mia"))
    first, _ = month_bounds(today_utc())
    with studio.db.session() as session:
        for model, cost, who, cached in [("openai/gpt-4o", 0.25, mia.id, False),
                                         ("openai/gpt-4o", 0.0, mia.id, True),
                                         ("meta/llama", 0.5, None, False)]:
            session.add(LLMCall(workspace_id=workspace.id, day=today_utc(), model=model,
                                cost_usd=cost, influencer_id=who, cached=cached,
                                prompt_tokens=100, completion_tokens=10))
        session.add(LLMCall(workspace_id=workspace.id, day=date.fromordinal(first.toordinal() - 1),
                            model="old/model", cost_usd=3.0))


def test_spend_against_the_budget(cli: Cli, studio: Studio) -> None:
    _calls(studio)
    assert cli("spend", "budget", "1").code == 0
    shown = cli("spend")
    assert shown.code == 0, shown.err
    month = today_utc().strftime("%Y-%m")
    assert shown.out.splitlines()[0] == f"LLM spend in {month}: $0.75 of the $1.00 monthly budget (75%)"
    data = cli("spend", "--json").json()
    assert (data["spent_usd"], data["budget_usd"], data["level"]) == (0.75, 1.0, "ok")
    assert [(r["key"], r["calls"], r["cached_calls"], r["cost_usd"]) for r in data["by_model"]] == [
        ("meta/llama", 1, 0, 0.5), ("openai/gpt-4o", 2, 1, 0.25)]
    assert [(r["key"], r["cost_usd"]) for r in data["by_influencer"]] == [("", 0.5), ("Mia", 0.25)]
    assert [r["key"] for r in data["by_day"]] == [today_utc().isoformat()]
    first, _ = month_bounds(today_utc())
    last = date.fromordinal(first.toordinal() - 1).strftime("%Y-%m")
    old = cli("spend", "--month", last, "--json").json()
    assert (old["month"], old["spent_usd"], [r["key"] for r in old["by_model"]]) == (
        last, 3.0, ["old/model"])


def test_table_and_budget_levels(cli: Cli, studio: Studio) -> None:
    _calls(studio)
    assert "no monthly budget set" in cli("spend").out
    cli("spend", "budget", "0.9")
    out = cli("spend").out
    assert out.splitlines()[0].startswith("Warning:") and "83%" in out
    assert "meta/llama" in out and "$0.5000" in out and "Mia" in out and "(none)" in out
    stop = cli("spend", "budget", "$0.50")
    assert stop.code == 0 and "used up" in stop.out
    assert cli("spend", "budget", "none", "--json").json()["level"] == "none"


def test_bad_input_is_one_line(cli: Cli) -> None:
    for args in (("spend", "budget", "lots"), ("spend", "--month", "November"),
                 ("spend", "budget", "-5")):
        result = cli(*args)
        assert result.code == 2, args
        one_error_line(result.err)


def test_a_budget_shows_with_its_precision(cli: Cli) -> None:
    made = cli("spend", "budget", "0.025")
    assert made.code == 0 and "$0.025 monthly budget" in made.out and "$0.03" not in made.out
    assert cli("spend", "--json").json()["budget_usd"] == 0.025
    assert "of the $0.025 monthly budget" in cli("spend").out.splitlines()[0]
