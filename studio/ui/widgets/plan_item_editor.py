"""Every field of one plan item, editable by hand, with Save, Approve and Regenerate.

The editor only collects input and says what the user asked for; the Plans page makes the
engine calls in the background. Saving sends the version the edit started from, so a change
made elsewhere meanwhile is refused instead of overwritten. When the page hands over a newer
copy of the post while the user has unsaved changes, the fields keep what they typed and a bar
says "Changed elsewhere" with Reload (take the other version) or Keep mine (save over it).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from PySide6.QtCore import QDate, QDateTime, QTime, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDateTimeEdit,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from studio.engine.db.models import PlanItem
from studio.engine.plans.schema import PLATFORMS
from studio.ui.widgets.changed_bar import ChangedElsewhereBar


@dataclass(frozen=True, slots=True)
class ItemEdit:
    item_id: Any
    version: int
    changes: dict[str, Any]


class PlanItemEditor(QWidget):
    save_requested = Signal(object)  # ItemEdit
    approve_requested = Signal(object, bool)  # item id, approved
    regenerate_requested = Signal(object, str)  # item id, instruction

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.item: PlanItem | None = None  # the version the fields were loaded from
        self.newer: PlanItem | None = None  # a newer version held back while the user edits
        self._loaded: dict[str, Any] = {}
        self._saving = False
        self._build()
        self.show_item(None)

    def _build(self) -> None:
        self.conflict = ChangedElsewhereBar(self)
        self.conflict.reload_requested.connect(self._on_reload_clicked)
        self.conflict.keep_requested.connect(self._on_keep_clicked)
        form = self._build_form()
        self.save_button = QPushButton("Save", self)
        self.save_button.clicked.connect(self._on_save_clicked)
        self.approve_button = QPushButton("Approve", self)
        self.approve_button.clicked.connect(self._on_approve_clicked)
        buttons = QHBoxLayout()
        buttons.addWidget(self.save_button)
        buttons.addWidget(self.approve_button)
        buttons.addStretch(1)
        self.instruction = QLineEdit(self)
        self.instruction.setPlaceholderText("what to change (optional), e.g. an evening post")
        self.regenerate_button = QPushButton("Regenerate", self)
        self.regenerate_button.setToolTip("Ask the model for a new version of this post (paid)")
        self.regenerate_button.clicked.connect(self._on_regenerate_clicked)
        regen = QHBoxLayout()
        regen.addWidget(self.instruction, 1)
        regen.addWidget(self.regenerate_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.conflict)
        layout.addLayout(form)
        layout.addLayout(buttons)
        layout.addLayout(regen)
        layout.addStretch(1)

    def _build_form(self) -> QFormLayout:
        self.when = QDateTimeEdit(self)
        self.when.setDisplayFormat("yyyy-MM-dd HH:mm")
        self.when.setCalendarPopup(True)
        self.when.setSpecialValueText("—")  # shown at the minimum: no post chosen
        self.platform = QComboBox(self)
        self.platform.addItems(PLATFORMS)
        self.status = QLabel(self)
        self.status.setObjectName("plan-item-status")
        self.status.setWordWrap(True)  # a long line must not widen the side panel
        self.topic, self.hook = QLineEdit(self), QLineEdit(self)
        self.caption = QPlainTextEdit(self)
        self.hashtags = QLineEdit(self)
        self.hashtags.setPlaceholderText("#one #two")
        self.image_prompt = QPlainTextEdit(self)
        self.video_prompt = QLineEdit(self)
        self.video_prompt.setPlaceholderText("empty: a still post")
        self.subtitle = QLineEdit(self)
        for box, rows in ((self.caption, 4), (self.image_prompt, 3)):
            box.setFixedHeight(box.fontMetrics().lineSpacing() * rows + 14)
        form = QFormLayout()
        for label, widget in (("When", self.when), ("Platform", self.platform),
                              ("Status", self.status), ("Topic", self.topic), ("Hook", self.hook),
                              ("Caption", self.caption), ("Hashtags", self.hashtags),
                              ("Image prompt", self.image_prompt),
                              ("Motion prompt", self.video_prompt), ("Subtitle", self.subtitle)):
            form.addRow(label, widget)
        return form

    def show_item(self, item: PlanItem | None) -> None:
        """Shows ``item``; a newer copy of the post being edited with unsaved changes is held
        back and reported instead (or, while a save is on its way, held back quietly)."""
        if item is not None and self.item is not None and item.id == self.item.id \
                and (self._saving or self.is_dirty()):
            if item.version != self.item.version:
                self.newer = item
                if not self._saving:
                    self.conflict.warn("this post")
            return  # the user's typing stays
        self._load(item)

    def is_dirty(self) -> bool:
        """The fields differ from the version they were loaded from."""
        return self.item is not None and self.changes() != self._loaded

    def saved(self, item: PlanItem) -> None:
        """The page's save went through: ``item`` is what is stored now."""
        self._saving = False
        self._load(item)

    def save_failed(self) -> None:
        self._saving = False
        if self.newer is not None:
            self.conflict.warn("this post")

    def _load(self, item: PlanItem | None) -> None:
        self.item = item
        self.newer = None
        self.conflict.hide()
        for widget in self._inputs():
            widget.setEnabled(item is not None)
        for button in (self.save_button, self.approve_button, self.regenerate_button):
            button.setEnabled(item is not None)
        if item is None:
            self.status.setText("Choose a post in the calendar or the list.")
            self.when.setDateTime(self.when.minimumDateTime())
            return
        local = item.scheduled_at.astimezone()
        self.when.setDateTime(QDateTime(QDate(local.year, local.month, local.day),
                                        QTime(local.hour, local.minute)))
        self.platform.setCurrentText(item.platform)
        self.status.setText(item.status)
        self.topic.setText(item.topic)
        self.hook.setText(item.hook)
        self.caption.setPlainText(item.caption)
        self.hashtags.setText(" ".join(item.hashtags or []))
        self.image_prompt.setPlainText(item.image_prompt)
        self.video_prompt.setText(item.video_prompt)
        self.subtitle.setText(item.subtitle_text)
        self.approve_button.setText("Back to draft" if item.status == "approved" else "Approve")
        self._loaded = self.changes()

    def changes(self) -> dict[str, Any]:
        local = self.when.dateTime().toPython()
        assert isinstance(local, datetime)
        return {"scheduled_at": local.astimezone().astimezone(UTC),
                "platform": self.platform.currentText(), "topic": self.topic.text(),
                "hook": self.hook.text(), "caption": self.caption.toPlainText(),
                "hashtags": self.hashtags.text(), "image_prompt": self.image_prompt.toPlainText(),
                "video_prompt": self.video_prompt.text(), "subtitle_text": self.subtitle.text()}

    def _inputs(self) -> list[QWidget]:
        return [self.when, self.platform, self.topic, self.hook, self.caption, self.hashtags,
                self.image_prompt, self.video_prompt, self.subtitle, self.instruction]

    def _on_save_clicked(self) -> None:
        if self.item is not None:
            self._saving = True
            self.save_requested.emit(ItemEdit(self.item.id, self.item.version, self.changes()))

    def _on_reload_clicked(self) -> None:
        if self.newer is not None:
            self._load(self.newer)

    def _on_keep_clicked(self) -> None:
        """The user's fields stay; the save that follows is based on the other version."""
        if self.newer is not None:
            self.item, self.newer = self.newer, None
        self.conflict.hide()

    def _on_approve_clicked(self) -> None:
        if self.item is not None:
            self.approve_requested.emit(self.item.id, self.item.status != "approved")

    def _on_regenerate_clicked(self) -> None:
        if self.item is not None:
            self.regenerate_requested.emit(self.item.id, self.instruction.text())
