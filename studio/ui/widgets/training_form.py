"""The Training page's left side: dataset and preset pickers, settings (basic / advanced), the
estimate of steps and time with the checks' findings, and Start.

Every TrainingConfig field has an editor (sd-scripts' option names as labels) with a tooltip in
plain words (training_help.py); what differs from the chosen preset is sent as an override, so
the job records exactly what was changed. The settings scroll; the estimate and Start stay below
them in sight at any window height. The user's own presets (a saved form) follow the built-in
ones; the page saves and deletes them through the engine.
"""
from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from studio.engine.training.checks import OPTIMIZERS, PRECISIONS, SAVE_PRECISIONS, SCHEDULERS
from studio.engine.training.config import MUSUBI_FAMILIES, Preset, TrainingConfig, field_type
from studio.engine.training.plan import TrainingPlan, TrainingRequest
from studio.engine.training.user_presets import UserPreset
from studio.ui.models.training_data import DatasetChoice
from studio.ui.theme_style import show_in_tone
from studio.ui.widgets.model_files import ModelFilesBox
from studio.ui.widgets.training_help import help_for

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
USER = "user:"  # the preset picker's data for a user preset: USER + its slug


class TrainingForm(QWidget):
    changed = Signal()
    start_requested = Signal()

    preset_save_requested = Signal(str)  # the name to save the form under
    preset_delete_requested = Signal(str)  # a user preset's slug

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.presets: dict[str, Preset] = {}
        self.user_presets: dict[str, UserPreset] = {}
        self.editors: dict[str, QWidget] = {}
        self._filling = False
        settings = QWidget(self)
        column = QVBoxLayout(settings)
        column.addLayout(self._pickers(settings))
        column.addWidget(self._group("Basic", BASIC, settings))
        self.model_files = ModelFilesBox(settings)
        column.addWidget(self.model_files)
        self.advanced_button = QPushButton("Show advanced", settings)
        self.advanced_button.setObjectName("training-advanced-toggle")
        self.advanced_button.setCheckable(True)
        self.advanced_button.setToolTip("Optimizer, precision, buckets, captions and other "
                                        "settings most trainings leave as the preset has them")
        column.addWidget(self.advanced_button)
        self.advanced = self._group("Advanced", ADVANCED, settings)
        self.advanced.hide()
        column.addWidget(self.advanced)
        column.addStretch(1)
        self.scroller = QScrollArea(self)
        self.scroller.setWidgetResizable(True)
        self.scroller.setFrameShape(QFrame.Shape.NoFrame)
        self.scroller.setWidget(settings)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.scroller, 1)
        layout.addLayout(self._start_row())
        self._connect()

    def _pickers(self, parent: QWidget) -> QFormLayout:
        pickers = QFormLayout()
        self.dataset_box = QComboBox(parent)
        self.preset_box = QComboBox(parent)
        self.preset_box.setObjectName("training-preset")
        self.preset_note = QLabel(parent)
        self.preset_note.setWordWrap(True)
        self.save_preset_button = QPushButton("Save as preset…", parent)
        self.save_preset_button.setToolTip("Keep this form under a name of yours, listed with the presets")
        self.delete_preset_button = QPushButton("Delete preset", parent)
        self.delete_preset_button.setToolTip("Delete the chosen preset of yours (built-in ones stay)")
        self.delete_preset_button.setEnabled(False)
        preset_buttons = QHBoxLayout()
        preset_buttons.addWidget(self.save_preset_button)
        preset_buttons.addWidget(self.delete_preset_button)
        preset_buttons.addStretch(1)
        self.sd_scripts = QLineEdit(parent)
        self.sd_scripts.setPlaceholderText("sd-scripts folder (setting sdscripts.folder)")
        for name, widget in (("dataset", self.dataset_box), ("preset", self.preset_box),
                             ("sd_scripts", self.sd_scripts)):
            widget.setToolTip(help_for(name))
        pickers.addRow("Dataset", self.dataset_box)
        pickers.addRow("Preset", self.preset_box)
        pickers.addRow("", preset_buttons)
        pickers.addRow("", self.preset_note)
        pickers.addRow("sd-scripts", self.sd_scripts)
        self.picker_form = pickers
        return pickers

    def _start_row(self) -> QVBoxLayout:
        """The estimate, the checks' findings and Start: outside the scrolling settings."""
        self.estimate = QLabel("Choose a dataset and a preset.", self)
        self.estimate.setObjectName("training-estimate")
        self.estimate.setWordWrap(True)
        self.findings = QLabel(self)
        self.findings.setObjectName("training-findings")
        self.findings.setWordWrap(True)
        self.start_button = QPushButton("Start training", self)
        self.start_button.setObjectName("training-start")
        self.start_button.setDefault(True)
        row = QVBoxLayout()
        row.setContentsMargins(9, 4, 9, 4)
        row.addWidget(self.estimate)
        row.addWidget(self.findings)
        row.addWidget(self.start_button)
        return row

    def _connect(self) -> None:
        self.dataset_box.currentIndexChanged.connect(lambda _: self.changed.emit())
        self.preset_box.currentIndexChanged.connect(self._on_preset_changed)
        self.sd_scripts.editingFinished.connect(self.changed.emit)
        self.model_files.changed.connect(self.changed.emit)
        self.start_button.clicked.connect(self.start_requested.emit)
        self.advanced_button.toggled.connect(self._on_advanced_toggled)
        self.save_preset_button.clicked.connect(self._on_save_preset_clicked)
        self.delete_preset_button.clicked.connect(self._on_delete_preset_clicked)

    # Building --------------------------------------------------------------------------------

    def _group(self, title: str, names: tuple[str, ...], parent: QWidget) -> QGroupBox:
        group = QGroupBox(title, parent)
        form = QFormLayout(group)
        for name in names:
            editor = self._editor(name, group)
            editor.setToolTip(help_for(name))
            self.editors[name] = editor
            if name == "base_model":
                row = QWidget(group)
                line = QHBoxLayout(row)
                line.setContentsMargins(0, 0, 0, 0)
                line.addWidget(editor, 1)
                browse = QPushButton("Browse…", row)
                browse.setToolTip("Choose the checkpoint file")
                browse.clicked.connect(self._on_browse_clicked)
                line.addWidget(browse)
                form.addRow(name, row)
                self.base_model_row = (form, row)
            else:
                form.addRow(name, editor)
            label = form.labelForField(row if name == "base_model" else editor)
            if label is not None:
                label.setToolTip(help_for(name))
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
        self._fill_presets(default, fallback=default)

    def set_user_presets(self, presets: list[UserPreset], select: str | None = None) -> None:
        """Lists the user's presets after the built-in ones; ``select`` (a slug) becomes the
        choice. The form keeps its values unless the choice changes to another preset."""
        gone = self.current_user_preset()
        self.user_presets = {p.slug: p for p in presets}
        wanted = USER + select if select else self.preset_box.currentData()
        if gone is not None and gone.slug not in self.user_presets:
            wanted = gone.base  # the deleted preset's form stays, under the preset it came from
        self._fill_presets(wanted, fallback=gone.base if gone else "", refill=gone is None or bool(select))

    def _fill_presets(self, wanted: str | None, *, fallback: str, refill: bool = True) -> None:
        before = self.preset_box.currentData()
        self.preset_box.blockSignals(True)
        self.preset_box.clear()
        for slug, preset in self.presets.items():
            self.preset_box.addItem(f"{preset.title}  [{slug}]", slug)
        if self.user_presets:
            self.preset_box.insertSeparator(self.preset_box.count())
        for user in self.user_presets.values():
            self.preset_box.addItem(f"{user.name}  (yours)", USER + user.slug)
        position = self.preset_box.findData(wanted)
        self.preset_box.setCurrentIndex(position if position >= 0 else max(self.preset_box.findData(fallback), 0))
        self.preset_box.blockSignals(False)
        if refill and self.preset_box.currentData() != before:
            self._on_preset_changed()
        else:
            self._show_preset_note()

    def current_user_preset(self) -> UserPreset | None:
        data = self.preset_box.currentData()
        return self.user_presets.get(data[len(USER):]) if isinstance(data, str) and data.startswith(USER) else None

    def current_preset(self) -> Preset | None:
        """The built-in preset chosen, or the one the chosen user preset was made from."""
        user = self.current_user_preset()
        return self.presets.get(user.base if user else (self.preset_box.currentData() or ""))

    def _show_preset_note(self) -> None:
        preset, user = self.current_preset(), self.current_user_preset()
        self.delete_preset_button.setEnabled(user is not None)
        if preset is not None:
            self.preset_note.setText(f"Yours, made from {preset.title}." if user else preset.description)

    def _on_preset_changed(self, *_: object) -> None:
        preset, user = self.current_preset(), self.current_user_preset()
        if preset is None:
            return
        self._show_preset_note()
        self.model_files.show_models(preset.models)
        # musubi-tuner's presets run from musubi.folder (Preferences → Training tools)
        sd_scripts = preset.config.family not in MUSUBI_FAMILIES
        self.picker_form.setRowVisible(self.sd_scripts, sd_scripts)
        self.base_model_row[0].setRowVisible(self.base_model_row[1], sd_scripts)  # musubi: its dit file
        base_model = self.value("base_model")  # the model chosen stays when the preset changes
        self._filling = True
        for name in self.editors:
            self.set_value(name, getattr(preset.config, name))
        if base_model:
            self.set_value("base_model", base_model)
        for name, value in (user.values.items() if user else ()):
            if name in self.editors and (value or name != "base_model"):
                self.set_value(name, value)
        self._filling = False
        self.changed.emit()

    def form_values(self) -> dict[str, Any]:
        """Every field as shown: what a user preset keeps."""
        return {name: self.value(name) for name in self.editors}

    def _on_save_preset_clicked(self) -> None:
        user = self.current_user_preset()
        name, ok = QInputDialog.getText(self, "Save as preset", "Name of your preset:",
                                        text=user.name if user else "")
        if ok and name.strip():
            self.preset_save_requested.emit(name.strip())

    def _on_delete_preset_clicked(self) -> None:
        user = self.current_user_preset()
        if user is not None:
            self.preset_delete_requested.emit(user.slug)

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
        self.advanced.setVisible(shown)
        self.advanced_button.setText("Hide advanced" if shown else "Show advanced")

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
                               preset=preset.slug,
                               overrides={**self.overrides(preset.config), **self.model_files.values()},
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
        show_in_tone(self.findings, "error" if plan.findings.problems else "warning")
        self.start_button.setEnabled(not plan.findings.problems)

    def show_problem(self, text: str) -> None:
        self.estimate.setText("")
        self.findings.setText(f"✖ {text}")
        show_in_tone(self.findings, "error")
        self.start_button.setEnabled(False)


