"""The model files a training preset needs beside its base model (FLUX.1's CLIP-L, T5-XXL and
autoencoder, Wan's two experts, …): one row each with a Browse button, the file's typical name
as the placeholder and what it is in the tooltip. Empty rows are left to the engine, which looks
in ComfyUI's models folders and names what is missing before a training starts."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFileDialog, QFormLayout, QGroupBox, QHBoxLayout, QLineEdit, QPushButton, QWidget

from studio.engine.training.config import ModelFile

BASE_OPTION = "pretrained_model_name_or_path"  # the form's own base_model row


class ModelFilesBox(QGroupBox):
    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Model files", parent)
        self.setObjectName("training-model-files")
        self.form = QFormLayout(self)
        self.fields: dict[str, QLineEdit] = {}  # by the option each fills
        self.hide()

    def show_models(self, models: dict[str, ModelFile]) -> None:
        """The preset's files; what the user typed for an option the new preset also needs stays."""
        kept = self.values()
        while self.form.rowCount():
            self.form.removeRow(0)
        self.fields = {}
        for model in models.values():
            if model.option != BASE_OPTION:
                self._add(model, kept.get(model.option, ""))
        self.setVisible(bool(self.fields))

    def values(self) -> dict[str, str]:
        return {option: field.text().strip() for option, field in self.fields.items() if field.text().strip()}

    def _add(self, model: ModelFile, text: str) -> None:
        field = QLineEdit(text, self)
        field.setObjectName(f"training-model-{model.option}")
        field.setPlaceholderText(f"{model.file} (empty: found in ComfyUI's {model.folder or 'models'} folder)")
        size = f"about {model.size_bytes / 1e9:.1f} GB" if model.size_bytes else ""
        field.setToolTip("; ".join(p for p in (model.label or model.role, size, model.source) if p))
        field.editingFinished.connect(self.changed.emit)
        browse = QPushButton("Browse…", self)
        browse.setToolTip(f"Choose {model.label or model.file}")
        browse.clicked.connect(lambda: self._browse(field, model))
        row = QWidget(self)
        line = QHBoxLayout(row)
        line.setContentsMargins(0, 0, 0, 0)
        line.addWidget(field, 1)
        line.addWidget(browse)
        self.form.addRow(model.option, row)
        self.fields[model.option] = field

    def _browse(self, field: QLineEdit, model: ModelFile) -> None:
        path, _ = QFileDialog.getOpenFileName(self, model.label or model.file, str(Path(field.text()).parent)
                                              if field.text() else "", "Model files (*.safetensors *.pth *.bin *.gguf)")
        if path:
            field.setText(path)
            self.changed.emit()
