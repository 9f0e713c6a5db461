"""``publish post|status|accounts|connect|disconnect`` against the test's profile, the post run
in this process (no worker is up) through a scripted platform client."""
from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from studio.engine.core import Studio
from studio.engine.db.models import PublishAccount
from studio.engine.db.repositories import Repository
from studio.engine.publish.platform import PublishError
from tests.cli.conftest import Cli, one_error_line
from tests.engine.publish.produced import ScriptedPlatform, connect_account, produced_item


@pytest.fixture
def platform(studio: Studio, monkeypatch: pytest.MonkeyPatch) -> ScriptedPlatform:
    scripted = ScriptedPlatform()
    monkeypatch.setattr("studio.engine.publish.clients.client_for", lambda _studio, _account: scripted)
    connect_account(studio)
    return scripted


def test_post_runs_here_and_prints_the_link_then_status_shows_it(cli: Cli, studio: Studio,
                                                                 platform: ScriptedPlatform) -> None:
    item = produced_item(studio)
    result = cli("publish", "post", str(item.id)[:8])
    assert result.code == 0, result.err
    assert "none is serving it; running the job in this process" in result.err
    assert result.out.strip().splitlines()[-1] == "instagram: published https://www.instagram.com/p/C0ffee/"
    again = cli("publish", "post", str(item.id), "--no-wait")
    assert again.code == 0 and "instagram: already posted or being posted; nothing queued" in again.err
    assert len(platform.posts) == 1
    status = cli("publish", "status", str(item.id)[:8])
    assert status.code == 0
    assert status.out.splitlines()[0].split() == ["PLATFORM", "STATUS", "URL", "POSTED", "DETAIL"]
    assert status.out.splitlines()[1].split()[:3] == ["instagram", "published", "https://www.instagram.com/p/C0ffee/"]
    [shown] = cli("publish", "status", str(item.id), "--json").json()
    assert shown["status"] == "published" and shown["remote_id"] == "18000000000000001"


def test_a_failed_post_exits_1_with_the_platforms_line(cli: Cli, studio: Studio,
                                                       platform: ScriptedPlatform) -> None:
    platform.outcomes = [PublishError("Error validating access token", reconnect=True)]
    item = produced_item(studio)
    result = cli("publish", "post", str(item.id))
    assert result.code == 1
    assert result.err.strip().splitlines()[-1].endswith(
        "failed: Instagram: the connection expired — reconnect Instagram in Preferences → Automation")
    [shown] = cli("publish", "status", str(item.id), "--json").json()
    assert shown["status"] == "failed" and "reconnect Instagram" in shown["error"]


def test_post_no_wait_prints_the_job_ids_of_each_platform(cli: Cli, studio: Studio,
                                                          platform: ScriptedPlatform) -> None:
    connect_account(studio, "youtube", name="Mira Travels")
    item = produced_item(studio)
    result = cli("publish", "post", str(item.id), "--platform", "instagram", "--platform", "youtube",
                 "--no-wait", "--json")
    assert result.code == 0, result.err
    jobs = result.json()
    assert set(jobs) == {"instagram", "youtube"}
    assert {(j["type"], j["status"]) for j in jobs.values()} == {("publish-post", "pending")}


def test_post_refuses_an_item_not_produced_in_one_line(cli: Cli, studio: Studio, platform: ScriptedPlatform) -> None:
    item = produced_item(studio)
    result = cli("publish", "post", str(item.id), "--platform", "tiktok")
    assert result.code == 2
    assert one_error_line(result.err) == ("error: No TikTok account is connected; connect one in Preferences → "
                                          "Automation or with `publish connect tiktok`.")


def test_accounts_lists_every_platform_and_whether_it_is_connected(cli: Cli, studio: Studio) -> None:
    connect_account(studio, "instagram", name="mira.travels", expires_at=datetime(2027, 2, 1, 12, tzinfo=UTC))
    result = cli("publish", "accounts")
    assert result.code == 0
    lines = result.out.splitlines()
    assert lines[0].split() == ["PLATFORM", "ACCOUNT", "EXPIRES", "CONNECTED"]
    assert lines[1].split()[:2] == ["Instagram", "mira.travels"] and "2027-02-01" in lines[1]
    assert lines[2].split() == ["TikTok", "not", "connected"]
    [account] = cli("publish", "accounts", "--json").json()
    assert (account["platform"], account["name"]) == ("instagram", "mira.travels")


def test_connect_opens_the_browser_and_says_who_is_connected(cli: Cli, studio: Studio,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    opened: list[str] = []
    monkeypatch.setattr("webbrowser.open", opened.append)

    def connect(studio: Studio, workspace_id: uuid.UUID, platform: str, *,
                open_browser: Callable[[str], object]) -> PublishAccount:
        open_browser("http://127.0.0.1:1/authorize?client_id=studio")
        with studio.db.session() as session:
            return Repository(session, workspace_id).add(PublishAccount(
                platform=platform, account_id="UC123", name="Mira Travels",
                expires_at=datetime(2026, 12, 6, 6, tzinfo=UTC)))
    monkeypatch.setattr("studio.engine.publish.clients.connect", connect)
    result = cli("publish", "connect", "youtube")
    assert result.code == 0, result.err
    assert opened == ["http://127.0.0.1:1/authorize?client_id=studio"]
    assert "visit: http://127.0.0.1:1/authorize?client_id=studio" in result.err
    assert result.out.strip() == "connected YouTube as Mira Travels (token expires 2026-12-06)"


def test_disconnect_forgets_the_account_and_says_whether_it_was_revoked(cli: Cli, studio: Studio) -> None:
    connect_account(studio, "instagram")
    result = cli("publish", "disconnect", "instagram")
    assert result.code == 0, result.err
    assert result.out.strip() == ("disconnected Instagram; Instagram offers no revoke here: remove the studio in "
                                  "Instagram's own settings to end its access")
    assert cli("publish", "accounts", "--json").json() == []
