"""The Generate tab's VRAM estimate: what the chosen workflow needs at the form's values, shown
before anything is queued and updated as the size, weights or model change.

The estimate is arithmetic on the template and the form (studio.engine.comfyui.vram), no I/O,
so it runs on the UI thread.
"""
from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QDoubleSpinBox, QLabel, QLineEdit, QSpinBox, QWidget

from studio.engine.comfyui.vram import estimate_for
from studio.engine.comfyui.workflows import WorkflowTemplate
from studio.ui.widgets.parameter_form import ParameterForm

# The parameters the estimate reads; the others leave it as it is.
WATCHED = ("width", "height", "batch_size", "megapixels", "frames", "length", "weight_dtype", "model")


class VramLine(QLabel):
    def __init__(self, form: ParameterForm, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("generate-vram")
        self.setWordWrap(True)
        self.setToolTip("An estimate from the model family, the size and the weights, not a "
                        "measurement; ComfyUI moves what does not fit into RAM, more slowly.")
        self._form = form
        self._template: WorkflowTemplate | None = None
        self.hide()

    def follow(self, template: WorkflowTemplate | None) -> None:
        """Call after the form was rebuilt for ``template``: watches its new editors."""
        self._template = template
        for name, editor in self._form.editors.items():
            if name not in WATCHED:
                continue
            if isinstance(editor, (QSpinBox, QDoubleSpinBox)):
                editor.valueChanged.connect(self.refresh)
            elif isinstance(editor, QComboBox):
                editor.currentTextChanged.connect(self.refresh)
            elif isinstance(editor, QLineEdit):
                editor.textChanged.connect(self.refresh)
        self.refresh()

    def refresh(self) -> None:
        template = self._template
        found = estimate_for(template, self._form.values()) if template is not None else None
        self.setText(found.line if found is not None else "")
        self.setVisible(found is not None)
