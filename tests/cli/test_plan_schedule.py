"""plan schedule set|list|remove in process; the last run shows what the slot did."""
from __future__ import annotations

from datetime import datetime

import pytest

from studio.engine.core import Studio
from studio.engine.pipelines.daily_plans import run_daily_plans
from tests.cli.conftest import Cli, one_error_line


@pytest.fixture
def mia(cli: Cli) -> Cli:
    assert cli("influencer", "create", "Mia", "--trigger", "mia_v").code == 0
    return cli


def test_set_list_and_remove(mia: Cli) -> None:
    made = mia("plan", "schedule", "set", "--influencer", "Mia", "--at", "07:30", "--posts", "2",
               "--platforms", "instagram,tiktok", "--auto-approve")
    assert made.code == 0, made.err
    assert made.out.strip() == ("Mia: every day at 07:30, 2 posts for tomorrow on instagram, "
                                "tiktok, approved at once")
    changed = mia("plan", "schedule", "set", "--influencer", "Mia", "--no-auto-approve", "--off")
    assert changed.out.strip().endswith("for approval (off)")
    [row] = mia("plan", "schedule", "list", "--json").json()
    assert (row["influencer"], row["at"], row["posts_per_day"], row["platforms"]) == (
        "Mia", "07:30", 2, ["instagram", "tiktok"])
    assert (row["auto_approve"], row["enabled"], row["last_slot"], row["last_job"]) == (
        False, False, None, None)
    listed = mia("plan", "schedule", "list").out
    assert "Mia" in listed and "never" in listed and "off" in listed
    assert mia("plan", "schedule", "remove", "--influencer", "Mia").out.strip() == (
        "Mia: daily schedule removed")
    assert "no daily schedules" in mia("plan", "schedule", "list").out


def test_bad_input_is_one_line(mia: Cli) -> None:
    for args, words in ((("--at", "7:30pm"), "HH:MM"), (("--posts", "0"), "1 to 4 posts"),
                        (("--platforms", "myspace"), "myspace")):
        refused = mia("plan", "schedule", "set", "--influencer", "Mia", *args)
        assert refused.code != 0 and words in one_error_line(refused.err)
    gone = mia("plan", "schedule", "remove", "--influencer", "Mia")
    assert gone.code != 0 and "no daily schedule" in one_error_line(gone.err)
    nobody = mia("plan", "schedule", "set", "--influencer", "Nobody", "--at", "09:00")
    assert nobody.code != 0 and "Nobody" in one_error_line(nobody.err)


def test_the_last_run_says_why_nothing_was_planned(mia: Cli, studio: Studio) -> None:
    assert mia("plan", "schedule", "set", "--influencer", "Mia", "--at", "09:00").code == 0
    run_daily_plans(studio, datetime(2026, 12, 10, 9, 0).astimezone())  # no plan model is set
    listed = mia("plan", "schedule", "list").out
    assert "2026-12-10: failed: No model chosen for content plans" in listed
    [row] = mia("plan", "schedule", "list", "--json").json()
    assert row["last_status"] == "failed" and row["last_slot"] == "2026-12-10"
