"""A form made from a workflow template's parameters: spin boxes, pickers and file fields.

The form shows each parameter with the template's default and range. Inputs that name something
ComfyUI has (checkpoint, LoRA, sampler, scheduler, ControlNet model) are editable pickers that
``set_choices`` fills from ``/object_info``; until then they hold the template's default. Prompts
and the seed belong to the page, and a parameter that only narrows another (the LoRA's separate
model and CLIP strengths under "LoRA strength") is left to the template.
"""
from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QWidget,
)

from studio.engine.comfyui.workflows import Parameter, WorkflowTemplate

COMBO_INPUTS = ("ckpt_name", "lora_name", "sampler_name", "scheduler", "control_net_name",
                "vae_name", "unet_name", "clip_name", "clip_name1", "clip_name2", "weight_dtype")
PAGE_OWNED = ("positive", "negative", "seed")
HIDDEN = ("filename_prefix",)
INT_LIMIT = 2**31 - 1
IMAGE_FILTER = "Pictures (*.png *.jpg *.jpeg *.webp *.bmp);;All files (*)"


def shown_parameters(template: WorkflowTemplate) -> list[Parameter]:
    """The parameters a form edits, in the template's order."""
    params = template.parameters

    def narrower(p: Parameter) -> bool:
        return any(set(p.targets) < set(q.targets) for q in params.values())

    return [p for p in params.values()
            if p.name not in PAGE_OWNED and p.name not in HIDDEN and not narrower(p)]


class ParameterForm(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.template: WorkflowTemplate | None = None
        self.editors: dict[str, QWidget] = {}
        self._layout = QFormLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.setObjectName("parameter-form")

    def set_template(self, template: WorkflowTemplate | None) -> None:
        """Rebuilds the form with the template's defaults."""
        while self._layout.rowCount():
            self._layout.removeRow(0)
        self.editors = {}
        self.template = template
        if template is None:
            return
        for param in shown_parameters(template):
            editor, field = self._make(param)
            editor.setObjectName(f"param-{param.name}")
            if param.description:
                editor.setToolTip(param.description)
            self.editors[param.name] = editor
            self._layout.addRow(param.title, field)

    def _make(self, param: Parameter) -> tuple[QWidget, QWidget]:
        """The editor that holds the value and the field laid out in its row (they differ for
        an image, whose row has a Browse button beside the editor)."""
        default = param.default
        editor: QWidget
        if param.input in COMBO_INPUTS:
            editor = self._combo(param)
        elif param.type == "int":
            editor = self._int_spin(param)
        elif param.type == "float":
            editor = self._float_spin(param)
        elif param.type == "bool":
            editor = QCheckBox(self)
            editor.setChecked(bool(default))
        elif param.type != "image":
            editor = QLineEdit(str(default) if default is not None else "", self)
        else:
            return self._image_field()
        return editor, editor

    def _combo(self, param: Parameter) -> QComboBox:
        combo = QComboBox(self)
        combo.setEditable(True)
        combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        combo.addItem(str(param.default or ""))
        if param.input == "lora_name":
            line = combo.lineEdit()
            assert line is not None  # an editable combo has a line edit
            line.setPlaceholderText("none: runs without a LoRA")
        return combo

    def _int_spin(self, param: Parameter) -> QSpinBox:
        spin = QSpinBox(self)
        spin.setRange(int(max(param.minimum if param.minimum is not None else -INT_LIMIT, -INT_LIMIT)),
                      int(min(param.maximum if param.maximum is not None else INT_LIMIT, INT_LIMIT)))
        spin.setSingleStep(param.step or 1)
        default = param.default
        spin.setValue(int(default) if isinstance(default, (int, float)) else spin.minimum())
        return spin

    def _float_spin(self, param: Parameter) -> QDoubleSpinBox:
        decimal = QDoubleSpinBox(self)
        low = param.minimum if param.minimum is not None else -1e6
        high = param.maximum if param.maximum is not None else 1e6
        decimal.setRange(float(low), float(high))
        decimal.setDecimals(2)
        decimal.setSingleStep(0.05 if high - low <= 10 else 0.5)
        default = param.default
        decimal.setValue(float(default) if isinstance(default, (int, float)) else 0.0)
        return decimal

    def _image_field(self) -> tuple[QLineEdit, QWidget]:
        line = QLineEdit(self)  # the template's default names a file in ComfyUI, not here
        line.setPlaceholderText("a picture on this computer")
        browse = QPushButton("Browse…", self)
        browse.clicked.connect(lambda: self._on_browse_clicked(line))
        field = QWidget(self)
        row = QHBoxLayout(field)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(line, 1)
        row.addWidget(browse)
        return line, field

    def _on_browse_clicked(self, line: QLineEdit) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Choose a picture", line.text(), IMAGE_FILTER)
        if path:
            line.setText(path)

    # Values ----------------------------------------------------------------------------------

    def set_choices(self, choices: dict[str, list[str]]) -> None:
        """Fills the pickers with what ComfyUI has; the value shown stays as it was."""
        for name, options in choices.items():
            combo = self.editors.get(name)
            if not isinstance(combo, QComboBox):
                continue
            current = combo.currentText()
            combo.clear()
            if name == "lora_name":
                combo.addItem("")
            combo.addItems([o for o in options if o])
            combo.setCurrentText(current)

    def options(self, name: str) -> list[str]:
        combo = self.editors.get(name)
        return [combo.itemText(i) for i in range(combo.count())] if isinstance(combo, QComboBox) else []

    def value(self, name: str) -> Any:
        editor = self.editors[name]
        if isinstance(editor, QComboBox):
            return editor.currentText().strip()
        if isinstance(editor, (QSpinBox, QDoubleSpinBox)):
            return editor.value()
        if isinstance(editor, QCheckBox):
            return editor.isChecked()
        assert isinstance(editor, QLineEdit)
        return editor.text().strip()

    def set_value(self, name: str, value: Any) -> bool:
        editor = self.editors.get(name)
        if editor is None:
            return False
        if isinstance(editor, QComboBox):
            editor.setCurrentText("" if value is None else str(value))
        elif isinstance(editor, QSpinBox):
            editor.setValue(int(value))
        elif isinstance(editor, QDoubleSpinBox):
            editor.setValue(float(value))
        elif isinstance(editor, QCheckBox):
            editor.setChecked(bool(value))
        elif isinstance(editor, QLineEdit):
            editor.setText("" if value is None else str(value))
        return True

    def values(self) -> dict[str, object]:
        """Every shown parameter's value by name, as the engine's request takes them."""
        return {name: self.value(name) for name in self.editors}
