"""``api webhook add|list|remove|deliveries|retry`` as a user types them."""
from __future__ import annotations

import io

import pytest

from studio.engine.core import Studio
from studio.engine.db.types import utcnow
from studio.engine.events import JOB_FAILED, Event
from studio.engine.webhooks import outbox
from studio.engine.webhooks.deliver import deliver_due
from tests.cli.conftest import Cli, one_error_line
from tests.fakes.webhook_receiver import WebhookReceiver


def test_add_list_and_remove(cli: Cli, studio: Studio) -> None:
    added = cli("api", "webhook", "add", "https://n8n.example/webhook/x", "--events",
                "job.completed,plan.item.ready", "--secret", "s-123", "--json")
    assert added.code == 0, added.err
    hook = added.json()
    assert hook["events"] == ["job.completed", "plan.item.ready"] and hook["signed"] is True
    assert studio.secrets.get(f"webhook.{hook['id'].replace('-', '')}") == "s-123"

    listed = cli("api", "webhook", "list")
    assert hook["id"] in listed.out and "job.completed,plan.item.ready" in listed.out and "yes" in listed.out
    assert "s-123" not in listed.out + cli("api", "webhook", "list", "--json").out

    removed = cli("api", "webhook", "remove", hook["id"][:8])
    assert removed.code == 0 and hook["id"] in removed.out
    assert cli("api", "webhook", "list", "--json").json() == []
    assert studio.secrets.get(f"webhook.{hook['id'].replace('-', '')}") is None


def test_the_secret_can_come_from_standard_input(cli: Cli, studio: Studio,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("from-a-pipe\n"))
    hook = cli("api", "webhook", "add", "http://127.0.0.1:5678/webhook/y", "--events", "job.failed",
               "--secret-stdin", "--json").json()
    assert studio.secrets.get(f"webhook.{hook['id'].replace('-', '')}") == "from-a-pipe"


@pytest.mark.parametrize(("args", "words"), [
    (["ftp://example.com/x", "--events", "job.failed"], "is not an http:// or https:// URL"),
    (["https://example.com/x", "--events", "job.failed,job.finished"], "Unknown event 'job.finished'"),
    (["https://example.com/x"], "the following arguments are required: --events"),
])
def test_a_wrong_url_or_event_is_one_error_line(cli: Cli, args: list[str], words: str) -> None:
    result = cli("api", "webhook", "add", *args)
    assert result.code in (1, 2)
    assert words in one_error_line(result.err)
    assert cli("api", "webhook", "list", "--json").json() == []


def test_unknown_ids_are_one_error_line(cli: Cli) -> None:
    assert "No webhook with id 'abcd1234'" in one_error_line(cli("api", "webhook", "remove", "abcd1234").err)
    assert "No delivery with id 'abcd'" in one_error_line(cli("api", "webhook", "retry", "abcd").err)


def test_deliveries_show_what_the_receiver_answered_and_a_failed_one_goes_again(cli: Cli,
                                                                               studio: Studio) -> None:
    with WebhookReceiver([400, 200]) as receiver:
        hook = cli("api", "webhook", "add", receiver.url(), "--events", "job.failed", "--json").json()
        outbox.record(studio.db, Event("job-cd-2", JOB_FAILED, utcnow(), studio.workspace().id, {}))
        deliver_due(studio.db, studio.secrets)
        table = cli("api", "webhook", "deliveries", "--failed")
        assert "job.failed" in table.out and "failed" in table.out and "400" in table.out
        [failed] = cli("api", "webhook", "deliveries", "--webhook", hook["id"], "--json").json()
        assert (failed["status"], failed["attempts"], failed["last_status"]) == ("failed", 1, 400)
        again = cli("api", "webhook", "retry", failed["id"])
        assert again.code == 0 and "will be sent again" in again.out
        deliver_due(studio.db, studio.secrets)
    assert cli("api", "webhook", "deliveries", "--json").json()[0]["status"] == "delivered"
    assert "no deliveries" in cli("api", "webhook", "deliveries", "--failed").out
