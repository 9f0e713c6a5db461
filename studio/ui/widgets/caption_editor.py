"""The caption editor: plain text, tag completion by frequency, a token counter, keyboard first.

The counter measures against the chosen model family's text encoder (CLIP 75 for SD 1.5/SDXL,
T5 for FLUX.1/SD 3.5, umT5 for Wan, Qwen2.5-VL for Qwen-Image; token_limits.py): the family
of the influencer's last training, or the one picked beside the counter.

Ctrl+Enter or Page Down: next image; Page Up: previous; Ctrl+J: next image without a caption;
Tab or Enter accepts a suggestion. Typing is reported (debounced) as ``caption_edited``; the
page saves it. Ctrl+Z and Ctrl+Shift+Z are left to the page's caption undo, which covers saved
edits as well as batch operations.
"""
from __future__ import annotations

import uuid
from collections.abc import Sequence

from PySide6.QtCore import QEvent, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QKeyEvent, QKeySequence, QPainter, QPalette, QStandardItem, QStandardItemModel, QTextCursor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QCompleter,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QVBoxLayout,
    QWidget,
)

from studio.engine.datasets.token_limits import count_for, limit_for
from studio.ui.timers import single_shot_timer
from studio.ui.widgets.changed_bar import ChangedElsewhereBar

SAVE_DELAY_MS = 600
FAMILY_NAMES = {"sd15": "SD 1.5", "sdxl": "SDXL", "flux1": "FLUX.1", "sd35": "SD 3.5",
                "qwen_image": "Qwen-Image", "wan22_14b": "Wan 2.2 14B", "wan22_5b": "Wan 2.2 5B"}
_PAGE_KEYS = (QKeySequence.StandardKey.Undo, QKeySequence.StandardKey.Redo)
COUNT_ROLE = Qt.ItemDataRole.UserRole + 1
SUGGESTIONS_SHOWN = 12


class _CountDelegate(QStyledItemDelegate):
    """A suggestion with how many pictures carry the tag, right-aligned and quieter."""

    def paint(self, painter: QPainter, option: QStyleOptionViewItem,
              index: QModelIndex | QPersistentModelIndex) -> None:
        super().paint(painter, option, index)
        count = index.data(COUNT_ROLE)
        if count:
            painter.save()
            painter.setPen(option.palette.color(QPalette.ColorRole.PlaceholderText))
            painter.drawText(option.rect.adjusted(0, 0, -6, 0),
                             int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter), str(count))
            painter.restore()


class CaptionText(QPlainTextEdit):
    next_requested = Signal()
    previous_requested = Signal()
    next_uncaptioned_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.separator = ","
        self.setUndoRedoEnabled(False)  # one undo for captions: the engine's
        self.setTabChangesFocus(False)
        self.tag_model = QStandardItemModel(self)
        self.completer = QCompleter(self.tag_model, self)
        self.completer.setMaxVisibleItems(SUGGESTIONS_SHOWN)
        self.completer.setWidget(self)
        self.completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.completer.setCompletionMode(QCompleter.CompletionMode.PopupCompletion)
        self.completer.setModelSorting(QCompleter.ModelSorting.UnsortedModel)  # frequency order
        self.completer.activated.connect(self._on_completer_activated)
        self._popup().setItemDelegate(_CountDelegate(self._popup()))

    def set_tags(self, tags: Sequence[str | tuple[str, int]]) -> None:
        """Tags most used first, each with how many pictures carry it where known."""
        self.tag_model.clear()
        for entry in tags:
            tag, count = (entry, 0) if isinstance(entry, str) else entry
            item = QStandardItem(tag)
            item.setData(count, COUNT_ROLE)
            self.tag_model.appendRow(item)

    def suggestions(self) -> list[str]:
        return [self.tag_model.item(row).text() for row in range(self.tag_model.rowCount())]

    def fragment(self) -> str:
        """The tag being typed: from the last separator before the cursor to the cursor."""
        before = self.toPlainText()[: self.textCursor().position()]
        sep = self.separator.strip() or self.separator
        return before.rsplit(sep, 1)[-1].lstrip()

    def _on_completer_activated(self, tag: str) -> None:
        cursor = self.textCursor()
        cursor.movePosition(QTextCursor.MoveOperation.Left, QTextCursor.MoveMode.KeepAnchor,
                            len(self.fragment()))
        cursor.insertText(tag)
        self.setTextCursor(cursor)

    def event(self, event: QEvent) -> bool:
        # Leave undo/redo shortcuts to the page's actions instead of eating them.
        if (event.type() == QEvent.Type.ShortcutOverride and isinstance(event, QKeyEvent)
                and (any(event.matches(key) for key in _PAGE_KEYS) or _is_redo_alias(event))):
            event.ignore()
            return False
        return super().event(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        popup = self._popup()
        if popup.isVisible() and event.key() in (Qt.Key.Key_Tab, Qt.Key.Key_Return, Qt.Key.Key_Enter):
            current = popup.currentIndex()
            tag = current.data() if current.isValid() else self.completer.currentCompletion()
            popup.hide()
            if tag:
                self._on_completer_activated(str(tag))
            return
        if popup.isVisible() and event.key() == Qt.Key.Key_Escape:
            popup.hide()
            return
        if self._navigate(event):
            popup.hide()
            return
        super().keyPressEvent(event)
        if event.text() and event.text().isprintable():
            self._complete()

    def _popup(self) -> QAbstractItemView:
        popup = self.completer.popup()
        assert popup is not None  # QCompleter makes its popup on first ask
        return popup

    def _navigate(self, event: QKeyEvent) -> bool:
        ctrl = bool(event.modifiers() & Qt.KeyboardModifier.ControlModifier)
        key = event.key()
        if key == Qt.Key.Key_PageDown or (ctrl and key in (Qt.Key.Key_Return, Qt.Key.Key_Enter)):
            self.next_requested.emit()
        elif key == Qt.Key.Key_PageUp:
            self.previous_requested.emit()
        elif ctrl and key == Qt.Key.Key_J:
            self.next_uncaptioned_requested.emit()
        else:
            return False
        return True

    def _complete(self) -> None:
        prefix = self.fragment()
        if len(prefix) < 2:
            self._popup().hide()
            return
        self.completer.setCompletionPrefix(prefix)
        if self.completer.completionCount() == 0:
            self._popup().hide()
            return
        rect = self.cursorRect()
        rect.setWidth(max(220, self._popup().sizeHintForColumn(0) + 24))
        self.completer.complete(rect)


def _is_redo_alias(event: QKeyEvent) -> bool:
    return event.key() == Qt.Key.Key_Y and bool(event.modifiers() & Qt.KeyboardModifier.ControlModifier)


class CaptionEditor(QWidget):
    """The text box and its token counter; saves are requested after a short pause in typing."""

    caption_edited = Signal(object, str, object)  # image id, text, the caption it replaces (None: any)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.image_id: uuid.UUID | None = None
        self._base: str | None = None  # the caption this edit started from, as stored
        self._theirs = ""  # a newer caption saved elsewhere, while the bar asks what to do
        self._saving = 0  # saves asked for and not yet stored or refused
        self.text = CaptionText(self)
        self.text.setPlaceholderText("Caption: tags separated by commas, the trigger word first")
        self.text.setObjectName("caption-text")
        self.tokens = QLabel(self)
        self.tokens.setObjectName("token-count")
        self.family = _family_box(self)
        self.family.activated.connect(self._on_family_activated)
        self._dataset_id: uuid.UUID | None = None
        self._picked: dict[uuid.UUID, str] = {}  # families chosen by hand, per dataset
        self.hint = QLabel("Ctrl+Enter next · PgUp previous · Ctrl+J next uncaptioned", self)
        self.hint.setEnabled(False)
        row = QHBoxLayout()
        row.addWidget(self.hint, 1)
        row.addWidget(self.tokens)
        row.addWidget(self.family)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.changed_bar = ChangedElsewhereBar(self)
        self.changed_bar.reload_requested.connect(self._on_reload_requested)
        self.changed_bar.keep_requested.connect(self._on_keep_requested)
        layout.addWidget(self.changed_bar)
        layout.addWidget(self.text, 1)
        layout.addLayout(row)
        self._timer = single_shot_timer(self, interval_ms=SAVE_DELAY_MS)  # saves after typing stops
        self._timer.timeout.connect(self._on_timer_timeout)
        self._loading = False
        self.text.textChanged.connect(self._on_text_changed)
        self.setEnabled(False)

    def show_caption(self, image_id: uuid.UUID | None, caption: str) -> None:
        """Shows another image's caption; a pending edit of the previous one is saved first."""
        if image_id == self.image_id and self.text.toPlainText() == caption:
            return
        self.flush()
        self.changed_bar.hide()
        if image_id != self.image_id:
            self._saving = 0  # another picture's saves settle without this editor
        self.image_id = image_id
        self._base = caption
        self._loading = True
        self.text.setPlainText(caption)
        self.text.moveCursor(QTextCursor.MoveOperation.End)
        self._loading = False
        self.setEnabled(image_id is not None)
        self._update_tokens()

    def refresh_caption(self, caption: str) -> None:
        """The shown image's caption as stored now: shown unless the user's own edit is still
        unsaved or waits for their answer to a conflict (then it is what "Reload" brings)."""
        if not self.changed_bar.isHidden():
            self._theirs = caption
        elif not self.pending() and not self._saving:  # a read from before a save is not news
            self.show_caption(self.image_id, caption)

    def save_settled(self, image_id: uuid.UUID) -> None:
        """A save of this editor's was stored or refused (the page's edits say so)."""
        if image_id == self.image_id:
            self._saving = max(self._saving - 1, 0)

    def show_conflict(self, image_id: uuid.UUID, current: str) -> None:
        """The last save was refused: the caption was changed elsewhere. The typing stays."""
        if image_id == self.image_id:
            self._theirs = current
            self.changed_bar.warn("this caption", short=True)

    def _on_reload_requested(self) -> None:
        self._timer.stop()
        image_id, self.image_id = self.image_id, None  # shown again, not saved over
        self.show_caption(image_id, self._theirs)

    def _on_keep_requested(self) -> None:
        self._base = None  # the next save knowingly replaces the newer caption
        self._timer.stop()
        self._on_timer_timeout()

    def flush(self) -> None:
        """Reports a pending edit now (before navigation, undo or closing)."""
        if self._timer.isActive():
            self._timer.stop()
            self._on_timer_timeout()

    def _on_timer_timeout(self) -> None:
        if self.image_id is not None:
            text = self.text.toPlainText()
            self._saving += 1
            self.caption_edited.emit(self.image_id, text, self._base)
            self._base = text  # what the next save starts from, once this one is stored

    def pending(self) -> bool:
        return self._timer.isActive()

    def _on_text_changed(self) -> None:
        self._update_tokens()
        if not self._loading and self.image_id is not None:
            self._timer.start()

    def current_family(self) -> str:
        return str(self.family.currentData())

    def suggest_family(self, dataset_id: uuid.UUID, family: str | None) -> None:
        """The family to count for in this dataset (its influencer's last training); a family
        picked by hand for the dataset stays."""
        self._dataset_id = dataset_id
        chosen = self._picked.get(dataset_id) or family or "sd15"
        index = self.family.findData(chosen)
        if index >= 0 and index != self.family.currentIndex():
            self.family.setCurrentIndex(index)
            self._update_tokens()

    def _on_family_activated(self, _index: int) -> None:
        if self._dataset_id is not None:
            self._picked[self._dataset_id] = self.current_family()
        self._update_tokens()

    def _update_tokens(self) -> None:
        family = self.current_family()
        limit = limit_for(family)
        counted = count_for(self.text.toPlainText(), family)
        count, exact = counted.count, counted.exact
        self.tokens.setText(f"{'' if exact else '≈'}{count} / {limit.limit} {limit.encoder} tokens")
        self.tokens.setStyleSheet("color: #d64545; font-weight: bold;" if count > limit.limit else "")
        how = ("counted exactly" if exact else
               "about: an estimate that errs long (no tokenizer for it is installed)")
        self.tokens.setToolTip(f"{limit.encoder} tokens for {FAMILY_NAMES[limit.family]}, {how}; "
                               f"the trainer reads {limit.limit} ({limit.source}).")


def _family_box(parent: QWidget) -> QComboBox:
    box = QComboBox(parent)
    box.setObjectName("caption-family")
    box.setToolTip("The model family the caption is counted for")
    for family, name in FAMILY_NAMES.items():
        box.addItem(name, family)
    box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
    return box
