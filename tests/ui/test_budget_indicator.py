"""The status bar's budget entry: hidden below 80 %, amber from 80 %, red at 100 %, following
every recorded call without being asked."""
from __future__ import annotations

from studio.engine.db.models import LLMCall
from studio.engine.llm.budget import set_budget, today_utc
from studio.ui.context import StudioContext
from studio.ui.main_window import MainWindow
from studio.ui.widgets.budget_indicator import BudgetIndicator


def _spend(context: StudioContext, usd: float) -> None:
    with context.studio.db.session() as session:
        session.add(LLMCall(workspace_id=context.workspace_id, day=today_utc(), model="m",
                            cost_usd=usd))


def test_levels(qtbot, context: StudioContext) -> None:  # type: ignore[no-untyped-def]
    indicator = BudgetIndicator(context)
    qtbot.addWidget(indicator)
    qtbot.waitUntil(lambda: indicator.status is not None, timeout=10_000)
    assert indicator.isHidden() and indicator.status.level == "none"
    set_budget(context.studio.db, context.workspace_id, 10.0)
    _spend(context, 7.0)
    qtbot.waitUntil(lambda: indicator.status.spent_usd == 7.0, timeout=10_000)
    assert indicator.isHidden()  # 70 %: nothing to say
    _spend(context, 1.5)
    qtbot.waitUntil(lambda: not indicator.isHidden(), timeout=10_000)
    assert indicator.text() == "LLM budget 85% used" and "#b7791f" in indicator.styleSheet()
    assert "Warning" in indicator.toolTip()
    _spend(context, 2.0)
    qtbot.waitUntil(lambda: "used up" in indicator.text(), timeout=10_000)
    assert indicator.text() == "LLM budget used up (105%)" and "#c0392b" in indicator.styleSheet()
    assert "Paid calls are refused" in indicator.toolTip()


def test_in_the_main_window_status_bar(qtbot, context: StudioContext) -> None:  # type: ignore[no-untyped-def]
    window = MainWindow(context)
    qtbot.addWidget(window)
    assert window.statusBar().findChild(BudgetIndicator) is window.budget
