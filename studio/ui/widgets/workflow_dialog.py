"""Maps a ComfyUI workflow's values to the studio's parameter names before it is added or saved.

Every value typed into the graph is a row; choosing a parameter name for it lets the Generate
page set it (the same name on two rows sets both, as "LoRA strength" does for model and CLIP).
Rows left empty keep the value the file was exported with.
"""
from __future__ import annotations

import re
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from studio.engine.comfyui.workflow_mapping import KNOWN_PARAMETERS, literal_inputs
from studio.ui.theme_style import show_in_tone

_VALID = re.compile(r"^[a-z][a-z0-9_]*$")
_SHOWN_CHARS = 60
COLUMNS = ("Node", "Input", "Value in the file", "Parameter")


class WorkflowDialog(QDialog):
    """``mapping()`` is the chosen {parameter: "NODE.INPUT" or [..]} once accepted."""

    def __init__(self, graph: dict[str, Any], *, name: str, mapping: dict[str, str | list[str]],
                 editing: bool = False, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Edit workflow parameters" if editing else "Add a ComfyUI workflow")
        self.setObjectName("workflow-dialog")
        self.resize(760, 560)
        self.inputs = literal_inputs(graph)
        chosen = {key: param for param, keys in mapping.items()
                  for key in ([keys] if isinstance(keys, str) else keys)}

        self.name = QLineEdit(name, self)
        self.name.setObjectName("workflow-name")
        self.name.setReadOnly(editing)  # the name is its file; a new name is a new workflow
        intro = QLabel("Give a parameter name to each value you want to set from the Generate "
                       "page. Values left empty keep what the file was exported with. The same "
                       "name on two rows sets both.", self)
        intro.setWordWrap(True)
        self._build_table(chosen)
        self.error_line = QLabel(self)
        self.error_line.setObjectName("workflow-error")
        show_in_tone(self.error_line, "error")
        self.error_line.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save
                                   | QDialogButtonBox.StandardButton.Cancel, self)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)

        form = QFormLayout()
        form.addRow("Name", self.name)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(intro)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.error_line)
        layout.addWidget(buttons)

    def _build_table(self, chosen: dict[str, str]) -> None:
        """One row per value typed into the graph, with a parameter-name box."""
        self.table = QTableWidget(len(self.inputs), len(COLUMNS), self)
        self.table.setObjectName("workflow-inputs")
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.verticalHeader().hide()
        self.table.setSelectionMode(QTableWidget.SelectionMode.NoSelection)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.ResizeToContents)
        self.boxes: list[QComboBox] = []
        for row, item in enumerate(self.inputs):
            node = f"{item.node} · {item.title or item.class_type}"
            value = str(item.value)
            cells = (node, item.input, value if len(value) <= _SHOWN_CHARS else value[:_SHOWN_CHARS] + "…")
            for column, text in enumerate(cells):
                cell = QTableWidgetItem(text)
                cell.setFlags(Qt.ItemFlag.ItemIsEnabled)
                cell.setToolTip(value if column == 2 else item.class_type)
                self.table.setItem(row, column, cell)
            box = QComboBox(self.table)
            box.setEditable(True)
            box.addItems(["", *KNOWN_PARAMETERS])
            box.setCurrentText(chosen.get(item.key, ""))
            box.setMinimumWidth(150)
            self.table.setCellWidget(row, 3, box)
            self.boxes.append(box)
    def set_parameter(self, key: str, name: str) -> None:
        """Chooses ``name`` for the value at NODE.INPUT ``key`` (as a user picking it would)."""
        row = next(i for i, item in enumerate(self.inputs) if item.key == key)
        self.boxes[row].setCurrentText(name)

    def mapping(self) -> dict[str, str | list[str]]:
        keys: dict[str, list[str]] = {}
        for item, box in zip(self.inputs, self.boxes, strict=True):
            name = box.currentText().strip()
            if name:
                keys.setdefault(name, []).append(item.key)
        return {name: found[0] if len(found) == 1 else found for name, found in keys.items()}

    def problem(self) -> str:
        """Why the choices cannot be saved, or an empty string."""
        if not self.name.text().strip():
            return "Give the workflow a name."
        for name in self.mapping():
            if not _VALID.match(name):
                return (f"'{name}' is not a parameter name: use lower-case letters, digits and "
                        "underscores, starting with a letter.")
        return ""

    def accept(self) -> None:
        problem = self.problem()
        if problem:
            self.error_line.setText(problem)
            return
        super().accept()
