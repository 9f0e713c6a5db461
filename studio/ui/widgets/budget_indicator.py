"""The status bar's LLM budget entry: hidden while spend is under 80 % of the workspace's monthly
budget (or no budget is set), amber from 80 %, red once paid calls are refused.

It reads the spend again when a paid call was recorded (SPEND), the budget set (it lives on the
workspace row) or the settings saved, in this process or any other; it owns no timer.
"""
from __future__ import annotations

from PySide6.QtWidgets import QLabel, QWidget

from studio.engine.db.changes import ChangeSet, Entity
from studio.engine.llm.budget import BudgetStatus, budget_status
from studio.ui.context import StudioContext
from studio.ui.tasks import run_in_background
from studio.ui.theme_style import tone

TONES = {"warning": "warning", "exceeded": "error"}  # theme_style.TONES
SHORT = {"warning": "LLM budget {share} used", "exceeded": "LLM budget used up ({share})"}


class BudgetIndicator(QLabel):
    def __init__(self, context: StudioContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("budget-indicator")
        self.context = context
        self.status: BudgetStatus | None = None
        self.hide()
        context.workspace_changed.connect(self.refresh)
        context.live.changed.connect(self._on_changed)
        self.refresh()

    def _on_changed(self, changes: ChangeSet) -> None:
        if changes.touches(Entity.SPEND, Entity.WORKSPACE, Entity.SETTINGS,
                           workspace_id=self.context.workspace_id):
            self.refresh()

    def refresh(self) -> None:
        db, workspace_id = self.context.studio.db, self.context.workspace_id
        run_in_background(lambda: budget_status(db, workspace_id), receiver=self,
                          on_done=self.show_status, on_error=lambda exc: None)  # the next change retries

    def show_status(self, status: BudgetStatus) -> None:
        self.status = status
        name = TONES.get(status.level)
        if name is None:
            self.hide()
            return
        self.setText(SHORT[status.level].format(share=f"{status.fraction:.0%}"))
        self.setToolTip(status.line)
        self.setStyleSheet(f"color: {tone(name, self.palette())}; font-weight: bold; padding: 0 8px;")
        self.show()
