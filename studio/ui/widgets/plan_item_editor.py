"""Every field of one plan item, editable by hand, with Save, Approve and Regenerate.

The editor only collects input and says what the user asked for; the Plans page makes the
engine calls in the background. Saving sends the version the edit started from, so a change
made elsewhere meanwhile is reported instead of overwritten.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from PySide6.QtCore import QDateTime, Signal
from PySide6.QtWidgets import (QComboBox, QDateTimeEdit, QFormLayout, QHBoxLayout, QLabel,
                               QLineEdit, QPlainTextEdit, QPushButton, QVBoxLayout, QWidget)

from studio.engine.db.models import PlanItem
from studio.engine.plans.schema import PLATFORMS


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
        self.item: PlanItem | None = None
        self._build()
        self.show_item(None)

    def _build(self) -> None:
        self.when = QDateTimeEdit(self)
        self.when.setDisplayFormat("yyyy-MM-dd HH:mm")
        self.when.setCalendarPopup(True)
        self.when.setSpecialValueText("—")  # shown at the minimum: no post chosen
        self.platform = QComboBox(self)
        self.platform.addItems(PLATFORMS)
        self.status = QLabel(self)
        self.status.setObjectName("plan-item-status")
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
        layout.addLayout(form)
        layout.addLayout(buttons)
        layout.addLayout(regen)
        layout.addStretch(1)

    def show_item(self, item: PlanItem | None) -> None:
        self.item = item
        for widget in self._inputs():
            widget.setEnabled(item is not None)
        for button in (self.save_button, self.approve_button, self.regenerate_button):
            button.setEnabled(item is not None)
        if item is None:
            self.status.setText("Choose a post in the calendar or the list.")
            self.when.setDateTime(self.when.minimumDateTime())
            return
        self.when.setDateTime(QDateTime(item.scheduled_at.astimezone().replace(tzinfo=None)))
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

    def changes(self) -> dict[str, Any]:
        local = self.when.dateTime().toPython()
        assert isinstance(local, datetime)
        return {"scheduled_at": local.astimezone().astimezone(timezone.utc),
                "platform": self.platform.currentText(), "topic": self.topic.text(),
                "hook": self.hook.text(), "caption": self.caption.toPlainText(),
                "hashtags": self.hashtags.text(), "image_prompt": self.image_prompt.toPlainText(),
                "video_prompt": self.video_prompt.text(), "subtitle_text": self.subtitle.text()}

    def _inputs(self) -> list[QWidget]:
        return [self.when, self.platform, self.topic, self.hook, self.caption, self.hashtags,
                self.image_prompt, self.video_prompt, self.subtitle, self.instruction]

    def _on_save_clicked(self) -> None:
        if self.item is not None:
            self.save_requested.emit(ItemEdit(self.item.id, self.item.version, self.changes()))

    def _on_approve_clicked(self) -> None:
        if self.item is not None:
            self.approve_requested.emit(self.item.id, self.item.status != "approved")

    def _on_regenerate_clicked(self) -> None:
        if self.item is not None:
            self.regenerate_requested.emit(self.item.id, self.instruction.text())
