""""Generate plan": the plan's inputs and what it will cost, estimated before anything is paid.

The estimate (tokens of the very request the job will send, times the server's listed price,
or free when the same request is in the local cache) is redone in the background a moment
after each change; Generate waits for it, so nobody starts a paid run without seeing the sum.
"""
from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QVBoxLayout, QWidget

from studio.engine.plans.estimate import PlanEstimate
from studio.ui.errors import one_line
from studio.ui.tasks import run_in_background
from studio.ui.timers import single_shot_timer
from studio.ui.widgets.plan_form import PlanForm, PlanOrder

Estimator = Callable[[PlanOrder], PlanEstimate]
SETTLE_MS = 300  # typing in the brief does not start an estimate per key


class GeneratePlanDialog(QDialog):
    estimated = Signal(object)  # PlanEstimate, or None when it could not be made

    def __init__(self, influencer: str, estimator: Estimator, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Generate a plan for {influencer}")
        self.estimator = estimator
        self.current: PlanEstimate | None = None
        self._asked = 0
        self.form = PlanForm(self)
        self.form.changed.connect(self._schedule)
        self.cost = QLabel(self)
        self.cost.setObjectName("plan-estimate")
        self.cost.setWordWrap(True)
        self.cost.setMinimumWidth(460)
        buttons = QDialogButtonBox(self)
        self.generate_button = buttons.addButton("Generate plan", QDialogButtonBox.ButtonRole.AcceptRole)
        self.generate_button.setToolTip("Ask the plan model for the posts")
        buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.form)
        layout.addWidget(QLabel("<b>Cost</b>", self))
        layout.addWidget(self.cost)
        layout.addStretch(1)
        layout.addWidget(buttons)
        self._timer = single_shot_timer(self, interval_ms=SETTLE_MS)  # debounce, not polling
        self._timer.timeout.connect(self._estimate)
        self._estimate()

    def order(self) -> PlanOrder:
        return self.form.order()

    def _schedule(self) -> None:
        self._asked += 1  # an answer for the old inputs is now stale
        self.generate_button.setEnabled(False)
        self.cost.setText("Estimating…")
        self._timer.start()

    def _estimate(self) -> None:
        self._asked += 1
        ticket, order = self._asked, self.form.order()
        if not order.platforms:
            self.cost.setText("Choose at least one platform.")
            return
        self.generate_button.setEnabled(False)
        self.cost.setText("Estimating…")
        run_in_background(lambda: self.estimator(order), receiver=self, lane="io",
                          on_done=lambda e: self._show(ticket, e),
                          on_error=lambda exc: self._failed(ticket, exc))

    def _show(self, ticket: int, estimate: PlanEstimate) -> None:
        if ticket != self._asked:
            return
        self.current = estimate
        self.cost.setText(estimate.line)
        self.generate_button.setEnabled(True)
        self.estimated.emit(estimate)

    def _failed(self, ticket: int, exc: BaseException) -> None:
        if ticket != self._asked:
            return
        self.current = None
        self.cost.setText(f"No estimate: {one_line(exc)}")
        self.generate_button.setEnabled(True)  # generating says the same problem, in its place
        self.estimated.emit(None)
