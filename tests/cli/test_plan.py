"""plan verbs in process: generate (the job runs here against the fake), list, show, edit,
approve, regenerate; bad input is one line."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest

from studio.engine.core import Studio
from tests.cli.conftest import Cli, one_error_line
from tests.engine.plans.helpers import item, plan_answer
from tests.fakes.openai_server import FakeOpenAI

START = date(2026, 12, 1)


@pytest.fixture
def server(studio: Studio) -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as fake:
        studio.settings.llm.base_url = fake.base_url
        studio.settings.llm.model = "openai/gpt-4o-mini"
        studio.save_settings()
        studio.secrets.set("openrouter", "sk-or-cli-plan")
        yield fake


@pytest.fixture
def mia(cli: Cli) -> Cli:
    assert cli("influencer", "create", "Mia", "--trigger", "mia_v").code == 0
    return cli


def test_generate_list_show_approve(mia: Cli, server: FakeOpenAI) -> None:
    server.invalid_json(cost=0.001).success_json(plan_answer(START, 2, platform="tiktok"), cost=0.002)
    made = mia("plan", "generate", "--influencer", "Mia", "--from", "2026-12-01", "--days", "2",
               "--platform", "tiktok")
    assert made.code == 0, made.err
    assert "$0.0030" in made.err and "openai/gpt-4o-mini" in made.err
    assert made.out.startswith("plan ") and made.out.count("tiktok") == 2
    assert server.received[0].body["model"] == "openai/gpt-4o-mini"

    [plan] = mia("plan", "list", "--json").json()
    assert (plan["influencer"], plan["items"], plan["approved"], plan["start_date"]) == (
        "Mia", 2, 0, "2026-12-01")
    assert "Mia" in mia("plan", "list").out
    items = mia("plan", "list", "--plan", plan["id"][:6], "--json").json()
    assert [i["platform"] for i in items] == ["tiktok", "tiktok"]
    first = items[0]["id"]
    shown = mia("plan", "show", first[:8])
    assert shown.code == 0 and "mia_v" in shown.out and "image_prompt" in shown.out

    assert mia("plan", "approve", first[:8]).out.strip() == "1 item approved"
    assert mia("plan", "list", "--json").json()[0]["approved"] == 1
    assert mia("plan", "approve", "--plan", plan["id"]).out.strip() == "2 items approved"
    assert mia("plan", "approve", "--undo", first).out.strip() == "1 item back to draft"

    again = mia("plan", "generate", "--influencer", "Mia", "--from", "2026-12-01", "--days", "2",
                "--platform", "tiktok", "--json")
    assert again.code == 0 and again.json()["cost_usd"] == 0.0  # answered from the cache
    assert len(server.received) == 2


def test_edit_and_regenerate(mia: Cli, server: FakeOpenAI) -> None:
    server.success_json(plan_answer(START, 1))
    assert mia("plan", "generate", "--influencer", "Mia", "--from", "2026-12-01", "--days", "1").code == 0
    plan = mia("plan", "list", "--json").json()[0]
    [row] = mia("plan", "list", "--plan", plan["id"], "--json").json()
    edited = mia("plan", "edit", row["id"][:8], "--set", "caption=Hallo Welt", "--set",
                 "hashtags=#a b", "--json").json()
    assert (edited["caption"], edited["hashtags"]) == ("Hallo Welt", ["#a", "#b"])
    stale = mia("plan", "edit", row["id"], "--set", "hook=x", "--version", str(row["version"]))
    assert stale.code == 1 and "changed elsewhere" in one_error_line(stale.err)
    fresh = {k: v for k, v in item(START, 3, prompt="snowy street").items()
             if k not in ("date", "time", "platform")}
    server.success_json(fresh)
    regen = mia("plan", "regenerate", row["id"][:8], "--instruction", "winter")
    assert regen.code == 0, regen.err
    assert "mia_v, snowy street" in regen.out
    assert "Also: winter" in server.received[-1].body["messages"][1]["content"]


def test_failures_and_bad_input_are_one_line(mia: Cli, server: FakeOpenAI) -> None:
    server.error(402, "Insufficient credits")
    failed = mia("plan", "generate", "--influencer", "Mia", "--from", "2026-12-01", "--days", "2")
    last = failed.err.strip().splitlines()[-1]  # progress lines come first
    assert failed.code == 1 and last.startswith("error: job ") and "out of credits" in last
    assert mia("spend", "budget", "0").code == 0
    stopped = mia("plan", "generate", "--influencer", "Mia", "--from", "2026-12-01", "--days", "3")
    assert stopped.code == 1 and "used up" in stopped.err
    for args in (("--from", "1st of May", "--days", "2"), ("--from", "2026-12-01", "--days", "0"),
                 ("--from", "2026-12-01", "--days", "2", "--platform", "myspace")):
        bad = mia("plan", "generate", "--influencer", "Mia", *args)
        assert bad.code == 2, args
        one_error_line(bad.err)
    assert mia("plan", "approve").code == 2
    assert mia("plan", "show", "abcdef").code == 1
    assert mia("plan", "edit", "abcdef", "--set", "nonsense").code == 2


def test_dates_out_of_range_are_one_line_and_queue_nothing(mia: Cli, server: FakeOpenAI) -> None:
    for start, days in (("9999-12-31", "3"), ("9999-12-25", "7"), ("0001-01-01", "3"),
                        ("2999-12-30", "3")):
        bad = mia("plan", "generate", "--influencer", "Mia", "--from", start, "--days", days)
        assert bad.code == 2, bad.err
        assert one_error_line(bad.err) == (
            f"error: A plan's days must fall between 2000-01-01 and 2999-12-31; {days} day(s) "
            f"from {start} do not.")
    assert mia("jobs", "list", "--json").json() == [] and server.received == []
    server.success_json(plan_answer(START, 1))
    assert mia("plan", "generate", "--influencer", "Mia", "--from", "2026-12-01", "--days", "1").code == 0
    [row] = mia("plan", "list", "--plan", mia("plan", "list", "--json").json()[0]["id"], "--json").json()
    for moment in ("0001-01-01 00:00", "0001-01-01T00:00+05:00", "9999-12-31 23:59"):
        moved = mia("plan", "edit", row["id"], "--set", f"scheduled_at={moment}")
        assert moved.code == 2 and "A post's date must fall between 2000-01-01 and 2999-12-31" in (
            one_error_line(moved.err))
