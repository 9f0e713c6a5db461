"""The spending dialog stays current: calls recorded and budgets set elsewhere show while it is
open, and a budget being typed in it is not overwritten."""
from __future__ import annotations

import threading
from pathlib import Path

from pytestqt.qtbot import QtBot

from studio.engine.llm.budget import CallRecord, record_call
from studio.ui.context import StudioContext
from studio.ui.widgets.spend_dialog import SpendDialog
from tests.conftest import run_cli


def test_spending_and_a_budget_set_elsewhere_show_while_open(qtbot: QtBot, context: StudioContext,
                                                             data_dir: Path) -> None:
    dialog = SpendDialog(context)
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: dialog.models.rowCount() == 0 and dialog.no_limit.isChecked(), timeout=5_000)

    call = CallRecord(workspace_id=context.workspace_id, model="openai/gpt-4o-mini",
                      prompt_tokens=900, completion_tokens=300, cost_usd=0.25)
    worker = threading.Thread(target=record_call, args=(context.studio.db, call))  # as a job would
    worker.start()
    worker.join()
    qtbot.waitUntil(lambda: dialog.models.rowCount() == 1, timeout=5_000)
    assert dialog.models.item(0, 5).text() == "$0.2500"

    done = run_cli(data_dir, "spend", "budget", "2")
    assert done.returncode == 0, done.stderr
    qtbot.waitUntil(lambda: not dialog.no_limit.isChecked(), timeout=5_000)
    assert dialog.budget.value() == 2.0 and "$2.00" in dialog.summary.text()

    dialog.budget.setValue(5.0)  # being typed here: a later reload keeps it
    record_call(context.studio.db, call)
    qtbot.waitUntil(lambda: dialog.models.item(0, 5).text() == "$0.5000", timeout=5_000)
    assert dialog.budget.value() == 5.0
