"""Preferences → Automation → Webhooks: listing, adding, removing, and Send again for a failed
delivery, on a real database with a local receiver."""
from __future__ import annotations

from datetime import timedelta

import pytest
from PySide6.QtWidgets import QAbstractItemView, QTableWidget

from studio.engine.core import Studio
from studio.engine.db.types import utcnow
from studio.engine.events import JOB_FAILED, Event
from studio.engine.webhooks import outbox
from studio.engine.webhooks.deliver import deliver_due
from studio.engine.webhooks.store import add_webhook, list_deliveries, list_webhooks
from studio.ui.context import StudioContext
from studio.ui.widgets.webhook_panel import WebhookPanel
from tests.fakes.webhook_receiver import WebhookReceiver


def _cell(table: QTableWidget, row: int, column: int) -> str:
    item = table.item(row, column)
    return item.text() if item is not None else ""


@pytest.fixture
def panel(qtbot, context: StudioContext) -> WebhookPanel:
    made = WebhookPanel(context)
    qtbot.addWidget(made)
    return made


def test_a_failed_delivery_is_shown_and_sent_again(qtbot, studio: Studio, context: StudioContext) -> None:
    workspace_id = context.workspace_id
    with WebhookReceiver([503] * 6 + [200]) as receiver:
        add_webhook(studio.db, studio.secrets, workspace_id, url=receiver.url(), events=[JOB_FAILED], secret="k")
        outbox.record(studio.db, Event("job-ef-2", JOB_FAILED, utcnow(), workspace_id, {}))
        for hours in range(6):  # every try answered 503: given up
            deliver_due(studio.db, studio.secrets, now=utcnow() + timedelta(hours=3 * hours))
        panel = WebhookPanel(context)
        qtbot.addWidget(panel)
        qtbot.waitUntil(lambda: panel.delivery_table.rowCount() == 1)
        assert _cell(panel.hooks, 0, 0) == receiver.url() and _cell(panel.hooks, 0, 2) == "yes"
        assert [_cell(panel.delivery_table, 0, c) for c in range(3)] == [JOB_FAILED, "failed", "6"]
        assert "answered 503" in _cell(panel.delivery_table, 0, 3)
        assert not panel.again_button.isEnabled()
        panel.delivery_table.selectRow(0)
        assert panel.again_button.isEnabled()
        panel.again_button.click()
        qtbot.waitUntil(lambda: _cell(panel.delivery_table, 0, 1) == "pending")
        assert "sent again" in panel.message.text()
        deliver_due(studio.db, studio.secrets)
    assert [d.status for d in list_deliveries(studio.db, workspace_id)] == ["delivered"]


def test_a_webhook_is_added_from_the_form_and_removed(qtbot, panel: WebhookPanel, studio: Studio,
                                                       context: StudioContext) -> None:
    panel.url_edit.setText("ftp://nowhere")
    panel.add_button.click()
    qtbot.waitUntil(lambda: "is not an http:// or https:// URL" in panel.message.text())
    assert "\n" not in panel.message.text()

    panel.url_edit.setText("https://n8n.example/webhook/abc")
    panel.secret_edit.setText("shh")
    panel.event_boxes["plan.item.ready"].setChecked(False)
    panel.add_button.click()
    qtbot.waitUntil(lambda: panel.hooks.rowCount() == 1)
    [hook] = list_webhooks(studio.db, context.workspace_id)
    assert hook.events == ("job.completed", "job.failed") and hook.signed
    assert panel.url_edit.text() == "" and panel.secret_edit.text() == ""

    assert panel.hooks.selectionBehavior() is QAbstractItemView.SelectionBehavior.SelectRows
    panel.hooks.selectRow(0)
    panel.remove_button.click()
    qtbot.waitUntil(lambda: panel.hooks.rowCount() == 0)
    assert list_webhooks(studio.db, context.workspace_id) == []
    assert not panel.remove_button.isEnabled()


def test_a_webhook_added_from_the_command_line_appears(qtbot, panel: WebhookPanel, studio: Studio,
                                                      context: StudioContext) -> None:
    panel.show()
    qtbot.waitUntil(lambda: panel.hooks.rowCount() == 0)
    add_webhook(studio.db, studio.secrets, context.workspace_id, url="http://127.0.0.1:9/hook",
                events=[JOB_FAILED])  # as `api webhook add` in another process leaves it
    qtbot.waitUntil(lambda: panel.hooks.rowCount() == 1, timeout=5000)
    assert _cell(panel.hooks, 0, 0) == "http://127.0.0.1:9/hook"


def test_a_delivery_sent_by_a_worker_shows_its_outcome(qtbot, panel: WebhookPanel, studio: Studio,
                                                      context: StudioContext) -> None:
    panel.show()
    with WebhookReceiver([200]) as receiver:
        add_webhook(studio.db, studio.secrets, context.workspace_id, url=receiver.url(), events=[JOB_FAILED])
        outbox.record(studio.db, Event("job-cd-2", JOB_FAILED, utcnow(), context.workspace_id, {}))
        qtbot.waitUntil(lambda: panel.delivery_table.rowCount() == 1, timeout=5000)
        deliver_due(studio.db, studio.secrets, now=utcnow())  # as the worker's delivery thread does
    qtbot.waitUntil(lambda: _cell(panel.delivery_table, 0, 1) == "delivered", timeout=5000)
