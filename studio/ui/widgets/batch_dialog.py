"""One batch caption operation over all, the filtered or the selected images."""
from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from studio.engine.datasets import tags as ops
from studio.engine.datasets.tags import split_tags
from studio.engine.errors import StudioError
from studio.ui.errors import one_line

# (key, title, fields it needs)
OPERATIONS = (
    ("add", "Add tags", ("tags", "at_front")),
    ("remove", "Remove tags", ("tags",)),
    ("rename", "Rename a tag", ("old", "new")),
    ("replace", "Replace text", ("pattern", "replacement", "regex")),
    ("front", "Move tags to the front", ("tags",)),
    ("sort", "Sort tags", ()),
    ("dedupe", "Remove duplicate tags", ()),
    ("trigger", "Insert the trigger word", ("trigger",)),
)
SCOPES = ("all", "filtered", "selected")


def build_op(key: str, values: dict[str, Any], separator: str = ",") -> Any:
    """The engine's operation value for ``key``; raises the engine's InvalidInput on bad input."""
    tags = tuple(split_tags(values.get("tags", ""), separator))
    match key:
        case "add":
            return ops.AddTags(tags, at_front=bool(values.get("at_front")))
        case "remove":
            return ops.RemoveTags(tags)
        case "rename":
            return ops.RenameTag(values.get("old", ""), values.get("new", ""))
        case "replace":
            return ops.ReplaceText(values.get("pattern", ""), values.get("replacement", ""),
                                   regex=bool(values.get("regex")))
        case "front":
            return ops.MoveToFront(tags)
        case "sort":
            return ops.SortTags()
        case "dedupe":
            return ops.DedupeTags()
        case "trigger":
            return ops.InsertTrigger(values.get("trigger", ""))
    raise StudioError(f"Unknown operation {key}.")


class BatchDialog(QDialog):
    def __init__(self, *, counts: dict[str, int], trigger: str = "", separator: str = ",",
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Batch caption operation")
        self.separator = separator
        self.op: Any = None
        self._form = self._build_form(trigger)
        scopes = self._build_scopes(counts)
        self.message = QLabel(self)
        self.message.setStyleSheet("color: #d64545;")
        self.message.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Apply")
        buttons.accepted.connect(self._on_accepted)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(self._form)
        layout.addWidget(QLabel("Apply to:", self))
        layout.addLayout(scopes)
        layout.addWidget(self.message)
        layout.addWidget(buttons)
        self.operation.currentIndexChanged.connect(self._on_operation_changed)
        self._on_operation_changed()

    def _build_form(self, trigger: str) -> QFormLayout:
        """The operation and every field an operation may need (shown when it does)."""
        self.operation = QComboBox(self)
        for key, title, _ in OPERATIONS:
            self.operation.addItem(title, key)
        self.fields: dict[str, QLineEdit | QCheckBox] = {
            "tags": QLineEdit(self), "old": QLineEdit(self), "new": QLineEdit(self),
            "pattern": QLineEdit(self), "replacement": QLineEdit(self), "trigger": QLineEdit(trigger, self),
            "at_front": QCheckBox("at the front", self), "regex": QCheckBox("regular expression", self),
        }
        self.fields["tags"].setPlaceholderText("tag one, tag two")  # type: ignore[union-attr]
        form = QFormLayout()
        form.addRow("Operation", self.operation)
        labels = {"tags": "Tags", "old": "Tag", "new": "New name", "pattern": "Find",
                  "replacement": "Replace with", "trigger": "Trigger word", "at_front": "",
                  "regex": ""}
        for name, widget in self.fields.items():
            widget.setObjectName(f"batch-{name}")
            form.addRow(labels[name], widget)
        return form

    def _build_scopes(self, counts: dict[str, int]) -> QHBoxLayout:
        """All, filtered or selected images, each with its count; the likely one chosen."""
        self.scope_group = QButtonGroup(self)
        scopes = QHBoxLayout()
        self.scope_buttons: dict[str, QRadioButton] = {}
        for scope in SCOPES:
            button = QRadioButton(f"{scope.capitalize()} ({counts.get(scope, 0)})", self)
            button.setEnabled(counts.get(scope, 0) > 0)
            self.scope_buttons[scope] = button
            self.scope_group.addButton(button)
            scopes.addWidget(button)
        narrowed = counts.get("filtered") != counts.get("all")
        default = "selected" if counts.get("selected", 0) > 1 else "filtered" if narrowed else "all"
        self.scope_buttons[default].setChecked(True)
        return scopes

    def choose(self, key: str) -> None:
        self.operation.setCurrentIndex(next(i for i, (k, _, _) in enumerate(OPERATIONS) if k == key))

    def scope(self) -> str:
        return next(s for s, b in self.scope_buttons.items() if b.isChecked())

    def values(self) -> dict[str, Any]:
        return {name: (w.isChecked() if isinstance(w, QCheckBox) else w.text())
                for name, w in self.fields.items()}

    def _on_operation_changed(self) -> None:
        needed = OPERATIONS[self.operation.currentIndex()][2]
        for name, widget in self.fields.items():
            self._form.setRowVisible(widget, name in needed)
        self.message.clear()

    def _on_accepted(self) -> None:
        try:
            self.op = build_op(str(self.operation.currentData()), self.values(), self.separator)
        except StudioError as exc:
            self.message.setText(one_line(exc))
            return
        self.accept()
