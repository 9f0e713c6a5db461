"""Preferences → Automation → Webhooks: the URLs told of the studio's events, and what became of
their recent deliveries (status, tries, the receiver's last answer), with Send again for a
failed one and a small form to add one.

Webhooks and deliveries are in the change log, so the panel reads them again when a window, the
CLI or a worker changes them (a delivery recorded, sent or given up), when it is shown, after its
own actions and on Refresh. It owns no timer.
"""
from __future__ import annotations

from collections.abc import Callable

from PySide6.QtGui import QColor, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from studio.engine.db.changes import ChangeSet, Entity
from studio.engine.events import JOB_COMPLETED, JOB_FAILED, PLAN_ITEM_READY, WEBHOOK_EVENTS
from studio.engine.webhooks import store
from studio.engine.webhooks.store import DeliveryInfo, WebhookInfo
from studio.ui.context import StudioContext
from studio.ui.errors import one_line
from studio.ui.tasks import run_in_background
from studio.ui.theme_style import tone

HOOK_COLUMNS = ("URL", "Events", "Signed")
DELIVERY_COLUMNS = ("Event", "Status", "Tries", "Last answer", "When")
DELIVERIES_SHOWN = 30
_DEFAULT_EVENTS = (JOB_COMPLETED, JOB_FAILED, PLAN_ITEM_READY)
_TONES = {store.DELIVERED: "ok", store.FAILED: "error", store.PENDING: "running"}
Found = tuple[list[WebhookInfo], list[DeliveryInfo]]


def _table(columns: tuple[str, ...], widths: tuple[int, ...], stretch: int, parent: QWidget) -> QTableWidget:
    """A read-only table of rows picked one at a time; column ``stretch`` takes the room left."""
    table = QTableWidget(0, len(columns), parent)
    table.setHorizontalHeaderLabels(columns)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.setWordWrap(False)
    table.verticalHeader().hide()
    for column, width in enumerate(widths):
        table.setColumnWidth(column, width)
    table.horizontalHeader().setSectionResizeMode(stretch, QHeaderView.ResizeMode.Stretch)
    return table


class WebhookPanel(QWidget):
    def __init__(self, context: StudioContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.webhooks: list[WebhookInfo] = []
        self.deliveries: list[DeliveryInfo] = []
        self._build()
        context.workspace_changed.connect(self.reload)
        context.live.changed.connect(self._on_changed)
        self.reload()

    def _on_changed(self, changes: ChangeSet) -> None:
        """A webhook added from the CLI; a delivery recorded, sent or given up by a worker."""
        if self.isVisible() and changes.touches(Entity.WEBHOOK, workspace_id=self.context.workspace_id):
            self.reload()

    def _build(self) -> None:
        self.hooks = _table(HOOK_COLUMNS, (0, 380, 70), 0, self)
        self.hooks.setMaximumHeight(120)
        self.hooks.itemSelectionChanged.connect(self._update_buttons)
        self.delivery_table = _table(DELIVERY_COLUMNS, (130, 80, 50, 0, 150), 3, self)
        self.delivery_table.setMaximumHeight(200)
        self.delivery_table.itemSelectionChanged.connect(self._update_buttons)
        self.remove_button = self._button("Remove", "Stop sending to the selected webhook", self.remove_selected)
        self.again_button = self._button("Send again", "Send the selected failed delivery once more",
                                         self.send_selected_again)
        self.refresh_button = self._button("Refresh", "Read the webhooks and deliveries again", self.reload)
        self.message = QLabel(self)
        self.message.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.hooks)
        layout.addLayout(self._add_form())
        layout.addWidget(QLabel("Recent deliveries (the worker sends them; failures are tried again "
                                "after 10 s, 1 min, 5 min, 30 min and 2 h)", self))
        layout.addWidget(self.delivery_table)
        buttons = QHBoxLayout()
        for button in (self.remove_button, self.again_button, self.refresh_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        layout.addLayout(buttons)
        layout.addWidget(self.message)
        self._update_buttons()

    def _button(self, text: str, tip: str, slot: Callable[[], None]) -> QPushButton:
        button = QPushButton(text, self)
        button.setToolTip(tip)
        button.clicked.connect(slot)
        return button

    def _add_form(self) -> QVBoxLayout:
        self.url_edit = QLineEdit(self)
        self.url_edit.setPlaceholderText("https://… (an n8n Webhook node's production URL, for one)")
        self.secret_edit = QLineEdit(self)
        self.secret_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.secret_edit.setPlaceholderText("signing secret (optional)")
        self.secret_edit.setToolTip("Each body is signed: X-Studio-Signature: sha256=<HMAC-SHA256 of the body>")
        self.event_boxes = {name: QCheckBox(name, self) for name in WEBHOOK_EVENTS}
        for name, box in self.event_boxes.items():
            box.setChecked(name in _DEFAULT_EVENTS)
        self.add_button = self._button("Add webhook", "Send the checked events to this URL", self.add_from_form)
        first, second = QHBoxLayout(), QHBoxLayout()
        first.addWidget(self.url_edit, 3)
        first.addWidget(self.secret_edit, 1)
        first.addWidget(self.add_button)
        for box in self.event_boxes.values():
            second.addWidget(box)
        second.addStretch(1)
        form = QVBoxLayout()
        form.addLayout(first)
        form.addLayout(second)
        return form

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802
        super().showEvent(event)
        self.reload()

    def reload(self) -> None:
        db, workspace_id = self.context.studio.db, self.context.workspace_id
        run_in_background(lambda: (store.list_webhooks(db, workspace_id),
                                   store.list_deliveries(db, workspace_id, limit=DELIVERIES_SHOWN)),
                          receiver=self, on_done=self.show_found, on_error=self._on_failed)

    def show_found(self, found: Found) -> None:
        self.webhooks, self.deliveries = found
        self.hooks.setRowCount(len(self.webhooks))
        for row, hook in enumerate(self.webhooks):
            self._fill(self.hooks, row, (hook.url, ", ".join(hook.events), "yes" if hook.signed else "no"))
        urls = {hook.id: hook.url for hook in self.webhooks}
        self.delivery_table.setRowCount(len(self.deliveries))
        for row, item in enumerate(self.deliveries):
            cells = self._fill(self.delivery_table, row, (
                item.event, item.status, str(item.attempts), _answer(item),
                f"{item.created_at.astimezone():%Y-%m-%d %H:%M:%S}"))
            status = cells[1]
            status.setForeground(QColor(tone(_TONES.get(item.status, "running"), self.palette())))
            status.setToolTip(f"to {urls.get(item.webhook_id, item.url)} · event {item.event_id}")
        self._update_buttons()

    @staticmethod
    def _fill(table: QTableWidget, row: int, texts: tuple[str, ...]) -> list[QTableWidgetItem]:
        cells = []
        for column, text in enumerate(texts):
            cell = QTableWidgetItem(text)
            cell.setToolTip(text)
            table.setItem(row, column, cell)
            cells.append(cell)
        return cells

    def _selected(self, table: QTableWidget) -> int | None:
        rows = {index.row() for index in table.selectionModel().selectedRows()}
        return min(rows) if rows else None

    def _update_buttons(self) -> None:
        hook_row, delivery_row = self._selected(self.hooks), self._selected(self.delivery_table)
        self.remove_button.setEnabled(hook_row is not None and hook_row < len(self.webhooks))
        failed = (delivery_row is not None and delivery_row < len(self.deliveries)
                  and self.deliveries[delivery_row].status == store.FAILED)
        self.again_button.setEnabled(failed)

    def add_from_form(self) -> None:
        studio, workspace_id = self.context.studio, self.context.workspace_id
        url, secret = self.url_edit.text(), self.secret_edit.text() or None
        events = [name for name, box in self.event_boxes.items() if box.isChecked()]
        run_in_background(lambda: store.add_webhook(studio.db, studio.secrets, workspace_id, url=url,
                                                    events=events, secret=secret),
                          receiver=self, on_done=self._on_added, on_error=self._on_failed)

    def _on_added(self, info: WebhookInfo) -> None:
        self.url_edit.clear()
        self.secret_edit.clear()
        self.message.setText(f"Added: {', '.join(info.events)} go to {info.url}.")
        self.reload()

    def remove_selected(self) -> None:
        row = self._selected(self.hooks)
        if row is None:
            return
        studio, workspace_id, hook = self.context.studio, self.context.workspace_id, self.webhooks[row]
        run_in_background(lambda: store.remove_webhook(studio.db, studio.secrets, workspace_id, hook.id),
                          receiver=self, on_done=lambda _: self._done(f"Removed {hook.url}."),
                          on_error=self._on_failed)

    def send_selected_again(self) -> None:
        row = self._selected(self.delivery_table)
        if row is None:
            return
        db, workspace_id, delivery_id = self.context.studio.db, self.context.workspace_id, self.deliveries[row].id
        run_in_background(lambda: store.send_again(db, workspace_id, delivery_id), receiver=self,
                          on_done=lambda _: self._done("The delivery will be sent again by the worker."),
                          on_error=self._on_failed)

    def _done(self, text: str) -> None:
        self.message.setText(text)
        self.reload()

    def _on_failed(self, exc: BaseException) -> None:
        self.message.setText(one_line(exc))


def _answer(delivery: DeliveryInfo) -> str:
    """The receiver's last answer: its error line (which names the status), else the status."""
    if delivery.last_error and delivery.status != store.DELIVERED:
        return delivery.last_error
    return f"HTTP {delivery.last_status}" if delivery.last_status is not None else "not tried yet"
