"""The status bar's LLM budget entry: hidden while spend is under 80 % of the workspace's monthly
budget (or no budget is set), amber from 80 %, red once paid calls are refused."""
from __future__ import annotations

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QLabel, QWidget

from studio.engine.llm.budget import BudgetStatus, budget_status
from studio.ui.context import StudioContext
from studio.ui.tasks import run_in_background

REFRESH_MS = 30_000
COLOURS = {"warning": "#b7791f", "exceeded": "#c0392b"}
SHORT = {"warning": "LLM budget {share} used", "exceeded": "LLM budget used up ({share})"}


class BudgetIndicator(QLabel):
    def __init__(self, context: StudioContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("budget-indicator")
        self.context = context
        self.status: BudgetStatus | None = None
        self.hide()
        self._timer = QTimer(self)
        self._timer.setInterval(REFRESH_MS)
        self._timer.timeout.connect(self.refresh)
        self._timer.start()
        context.workspace_changed.connect(self.refresh)
        self.refresh()

    def refresh(self) -> None:
        db, workspace_id = self.context.studio.db, self.context.workspace_id
        run_in_background(lambda: budget_status(db, workspace_id), receiver=self,
                          on_done=self.show_status, on_error=lambda exc: None)  # next tick retries

    def show_status(self, status: BudgetStatus) -> None:
        self.status = status
        colour = COLOURS.get(status.level)
        if colour is None:
            self.hide()
            return
        self.setText(SHORT[status.level].format(share=f"{status.fraction:.0%}"))
        self.setToolTip(status.line)
        self.setStyleSheet(f"color: {colour}; font-weight: bold; padding: 0 8px;")
        self.show()
