"""The Training page's left side: dataset and preset pickers, settings (basic / advanced), the
estimate of steps and time with the checks' findings, and Start.

Every TrainingConfig field has an editor (sd-scripts' option names as labels); what differs from
the chosen preset is sent as an override, so the job records exactly what was changed.
"""
from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from studio.engine.training.checks import OPTIMIZERS, PRECISIONS, SAVE_PRECISIONS, SCHEDULERS
from studio.engine.training.config import Preset, TrainingConfig, field_type
from studio.engine.training.plan import TrainingPlan, TrainingRequest
from studio.ui.models.training_data import DatasetChoice

BASIC = ("base_model", "max_train_steps", "max_train_epochs", "learning_rate", "network_dim",
         "network_alpha", "train_batch_size", "resolution", "save_every_n_steps",
         "save_every_n_epochs", "sample_every_n_steps", "sample_prompts")
ADVANCED = ("optimizer_type", "lr_scheduler", "lr_warmup_steps", "unet_lr", "text_encoder_lr",
            "network_train_unet_only", "mixed_precision", "save_precision", "gradient_checkpointing",
            "cache_latents", "cache_text_encoder_outputs", "sdpa", "seed", "num_repeats",
            "enable_bucket", "min_bucket_reso", "max_bucket_reso", "shuffle_caption", "keep_tokens",
            "flip_aug", "caption_dropout_rate", "save_state", "max_data_loader_n_workers")
CHOICES = {"optimizer_type": ("AdamW", "AdamW8bit", "Lion", "AdaFactor", "Prodigy", "DAdaptAdam"),
           "lr_scheduler": SCHEDULERS, "mixed_precision": PRECISIONS, "save_precision": SAVE_PRECISIONS}
assert all(o.lower() in OPTIMIZERS for o in CHOICES["optimizer_type"])


class TrainingForm(QWidget):
    changed = Signal()
    start_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.presets: dict[str, Preset] = {}
        self.editors: dict[str, QWidget] = {}
        self._filling = False
        layout = QVBoxLayout(self)
        pickers = QFormLayout()
        self.dataset_box = QComboBox(self)
        self.preset_box = QComboBox(self)
        self.preset_note = QLabel(self)
        self.preset_note.setWordWrap(True)
        self.sd_scripts = QLineEdit(self)
        self.sd_scripts.setPlaceholderText("sd-scripts folder (setting sdscripts.folder)")
        pickers.addRow("Dataset", self.dataset_box)
        pickers.addRow("Preset", self.preset_box)
        pickers.addRow("", self.preset_note)
        pickers.addRow("sd-scripts", self.sd_scripts)
        layout.addLayout(pickers)
        layout.addWidget(self._group("Basic", BASIC, checkable=False))
        self.advanced = self._group("Advanced", ADVANCED, checkable=True)
        self.advanced.setChecked(False)
        self.advanced.toggled.connect(self._on_advanced_toggled)
        self._on_advanced_toggled(False)
        layout.addWidget(self.advanced)
        self.estimate = QLabel("Choose a dataset and a preset.", self)
        self.estimate.setObjectName("training-estimate")
        self.estimate.setWordWrap(True)
        self.findings = QLabel(self)
        self.findings.setObjectName("training-findings")
        self.findings.setWordWrap(True)
        self.start_button = QPushButton("Start training", self)
        self.start_button.setDefault(True)
        layout.addWidget(self.estimate)
        layout.addWidget(self.findings)
        layout.addWidget(self.start_button)
        layout.addStretch(1)
        self.dataset_box.currentIndexChanged.connect(lambda _: self.changed.emit())
        self.preset_box.currentIndexChanged.connect(self._on_preset_changed)
        self.sd_scripts.editingFinished.connect(self.changed.emit)
        self.start_button.clicked.connect(self.start_requested.emit)

    # Building --------------------------------------------------------------------------------

    def _group(self, title: str, names: tuple[str, ...], *, checkable: bool) -> QGroupBox:
        group = QGroupBox(title + (" (show)" if checkable else ""), self)
        group.setCheckable(checkable)
        form = QFormLayout(group)
        for name in names:
            editor = self._editor(name, group)
            self.editors[name] = editor
            if name == "base_model":
                row = QWidget(group)
                line = QHBoxLayout(row)
                line.setContentsMargins(0, 0, 0, 0)
                line.addWidget(editor, 1)
                browse = QPushButton("Browse…", row)
                browse.clicked.connect(self._on_browse_clicked)
                line.addWidget(browse)
                form.addRow(name, row)
            else:
                form.addRow(name, editor)
        return group

    def _editor(self, name: str, parent: QWidget) -> QWidget:
        kind = field_type(name)
        editor: QWidget
        if kind is bool:
            editor = QCheckBox(parent)
            editor.toggled.connect(self._on_edited)
        elif name in CHOICES:
            editor = QComboBox(parent)
            editor.addItems(list(CHOICES[name]))
            editor.setEditable(name == "optimizer_type")  # a class path is allowed too
            editor.currentTextChanged.connect(self._on_edited)
        elif name == "sample_prompts":
            editor = QPlainTextEdit(parent)
            editor.setPlaceholderText("one prompt per line; {trigger} is the influencer's trigger word")
            editor.setFixedHeight(64)
            editor.textChanged.connect(self._on_edited)
        else:
            editor = QLineEdit(parent)
            editor.setPlaceholderText("empty: not set" if "None" in str(kind) else "")
            editor.editingFinished.connect(self._on_edited)
        editor.setObjectName(f"training-{name}")
        return editor

    # Filling ---------------------------------------------------------------------------------

    def set_datasets(self, choices: list[DatasetChoice]) -> None:
        shown = [self.dataset_box.itemData(i) for i in range(self.dataset_box.count())]
        if choices == shown:
            return  # a change elsewhere that left the list as it was: keep the choice, no re-plan
        wanted = self.dataset_box.currentData()
        self.dataset_box.clear()
        for choice in choices:
            self.dataset_box.addItem(choice.label, choice)
        position = next((i for i, c in enumerate(choices) if wanted and c.dataset_id == wanted.dataset_id), 0)
        self.dataset_box.setCurrentIndex(position if choices else -1)

    def set_presets(self, presets: dict[str, Preset], default: str = "sd15-likeness-12gb") -> None:
        self.presets = presets
        self.preset_box.clear()
        for slug, preset in presets.items():
            self.preset_box.addItem(f"{preset.title}  [{slug}]", slug)
        self.preset_box.setCurrentIndex(max(self.preset_box.findData(default), 0))
        self._on_preset_changed()

    def current_preset(self) -> Preset | None:
        return self.presets.get(self.preset_box.currentData() or "")

    def _on_preset_changed(self, *_: object) -> None:
        preset = self.current_preset()
        if preset is None:
            return
        self.preset_note.setText(preset.description)
        base_model = self.value("base_model")  # the model chosen stays when the preset changes
        self._filling = True
        for name in self.editors:
            self.set_value(name, getattr(preset.config, name))
        if base_model:
            self.set_value("base_model", base_model)
        self._filling = False
        self.changed.emit()

    def set_value(self, name: str, value: Any) -> None:
        editor = self.editors[name]
        if isinstance(editor, QCheckBox):
            editor.setChecked(bool(value))
        elif isinstance(editor, QComboBox):
            editor.setCurrentText(str(value))
        elif isinstance(editor, QPlainTextEdit):
            editor.setPlainText("\n".join(value or ()))
        elif isinstance(editor, QLineEdit):
            editor.setText("" if value is None else (f"{value:g}" if isinstance(value, float) else str(value)))

    def value(self, name: str) -> Any:
        editor = self.editors[name]
        if isinstance(editor, QCheckBox):
            return editor.isChecked()
        if isinstance(editor, QComboBox):
            return editor.currentText()
        if isinstance(editor, QPlainTextEdit):
            return tuple(line.strip() for line in editor.toPlainText().splitlines() if line.strip())
        assert isinstance(editor, QLineEdit)
        return editor.text().strip()

    def _on_edited(self, *_: object) -> None:
        if not self._filling:
            self.changed.emit()

    def _on_advanced_toggled(self, shown: bool) -> None:
        for editor in self.editors.values():
            if editor.parent() is self.advanced:
                editor.setVisible(shown)
                form = self.advanced.layout()
                label = form.labelForField(editor) if isinstance(form, QFormLayout) else None
                if label is not None:
                    label.setVisible(shown)

    def _on_browse_clicked(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Base model", "", "Checkpoints (*.safetensors *.ckpt)")
        if path:
            self.set_value("base_model", path)
            self.changed.emit()

    # Reading ---------------------------------------------------------------------------------

    def request(self) -> TrainingRequest | None:
        choice: DatasetChoice | None = self.dataset_box.currentData()
        preset = self.current_preset()
        if choice is None or preset is None:
            return None
        return TrainingRequest(influencer_id=choice.influencer_id, dataset_id=choice.dataset_id,
                               preset=preset.slug, overrides=self.overrides(preset.config),
                               sd_scripts=self.sd_scripts.text().strip())

    def overrides(self, base: TrainingConfig) -> dict[str, object]:
        """The editors' values that differ from the preset (as text; the engine converts)."""
        changed: dict[str, object] = {}
        for name in self.editors:
            shown = self.value(name)
            preset_value = getattr(base, name)
            if isinstance(shown, (bool, tuple)):
                if shown != preset_value:
                    changed[name] = list(shown) if isinstance(shown, tuple) else shown
                continue
            expected = "" if preset_value is None else (
                f"{preset_value:g}" if isinstance(preset_value, float) else str(preset_value))
            if shown != expected:
                changed[name] = shown
        return changed

    def show_plan(self, plan: TrainingPlan) -> None:
        steps = plan.steps
        minutes = round(plan.estimate_s / 60)
        duration = f"{minutes // 60} h {minutes % 60:02d} min" if minutes >= 60 else f"{max(minutes, 1)} min"
        self.estimate.setText(
            f"{plan.source.images} images × {plan.config.num_repeats or plan.source.repeats} repeats → "
            f"{steps.total_steps} steps ({steps.epochs} epochs of {steps.steps_per_epoch}), ≈ {duration}. "
            f"Saves as {plan.output_name}.")
        lines = [f"✖ {p}" for p in plan.findings.problems] + [f"⚠ {w}" for w in plan.findings.warnings]
        self.findings.setText("\n".join(lines))
        self.findings.setStyleSheet("color: #c0392b;" if plan.findings.problems else "color: #b7791f;")
        self.start_button.setEnabled(not plan.findings.problems)

    def show_problem(self, text: str) -> None:
        self.estimate.setText("")
        self.findings.setText(f"✖ {text}")
        self.findings.setStyleSheet("color: #c0392b;")
        self.start_button.setEnabled(False)

