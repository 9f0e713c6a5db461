"""The Generate tab's left side: influencer, workflow, prompts, parameters, seed, Generate.

Only widgets: the page fills the pickers, reads the values and submits.
"""
from __future__ import annotations

import secrets

from PySide6.QtGui import QIntValidator
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from studio.engine.comfyui.workflows import RANDOM_SEED_LIMIT, WorkflowTemplate
from studio.ui.theme_style import show_in_tone
from studio.ui.widgets.parameter_form import ParameterForm
from studio.ui.widgets.vram_line import VramLine

MAX_IMAGES = 100


def with_trigger(prompt: str, trigger: str) -> str:
    """The prompt with the trigger word at its front, unless it already holds it."""
    trigger = trigger.strip()
    if not trigger or trigger.casefold() in prompt.casefold():
        return prompt
    return f"{trigger}, {prompt.strip()}" if prompt.strip() else trigger


class GenerateControls(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._build_choosers()
        self._build_inputs()
        self._lay_out()
        self.seed_lock.toggled.connect(self._on_seed_lock_toggled)

    def _build_choosers(self) -> None:
        """Influencer, workflow (with Add and Parameters), what ComfyUI says, and its button."""
        self.influencer_box = QComboBox(self)
        self.influencer_box.setObjectName("generate-influencer")
        self.template_box = QComboBox(self)
        self.template_box.setObjectName("generate-template")
        self.template_note = QLabel(self)
        self.template_note.setWordWrap(True)
        self.add_workflow_button = QPushButton("Add…", self)
        self.add_workflow_button.setObjectName("generate-add-workflow")
        self.add_workflow_button.setToolTip("Add a workflow you exported from ComfyUI with "
                                            "Export (API), and choose which values you set here")
        self.edit_workflow_button = QPushButton("Parameters…", self)
        self.edit_workflow_button.setObjectName("generate-edit-workflow")
        self.edit_workflow_button.setToolTip("Choose which values of your workflow are set here")
        self.edit_workflow_button.setEnabled(False)
        self.comfy_line = QLabel(self)
        self.comfy_line.setObjectName("comfy-status")
        self.comfy_line.setWordWrap(True)
        show_in_tone(self.comfy_line, "error")
        self.comfy_line.hide()
        self.comfy_button = QPushButton("ComfyUI…", self)
        self.comfy_button.setObjectName("generate-comfyui")
        self.comfy_button.setToolTip("Where ComfyUI is, start or stop the local one, and its log")

    def _build_inputs(self) -> None:
        """Prompts, the template's parameters, seed, count, Generate and the error line."""
        self.prompt = QPlainTextEdit(self)
        self.prompt.setObjectName("generate-prompt")
        self.prompt.setPlaceholderText("What the picture shows")
        self.prompt.setFixedHeight(76)
        self.negative = QPlainTextEdit(self)
        self.negative.setObjectName("generate-negative")
        self.negative.setPlaceholderText("What it must not show")
        self.negative.setFixedHeight(56)
        self.form = ParameterForm(self)
        self.vram_line = VramLine(self.form, self)
        self.seed_lock = QCheckBox("Lock seed", self)
        self.seed_lock.setToolTip("Off: every image gets a new random seed. On: the seed below, "
                                  "counting up by one per image.")
        self.seed = QLineEdit(self)
        self.seed.setObjectName("generate-seed")
        self.seed.setValidator(QIntValidator(0, RANDOM_SEED_LIMIT, self))
        self.seed.setPlaceholderText("random")
        self.seed.setEnabled(False)
        self.count = QSpinBox(self)
        self.count.setObjectName("generate-count")
        self.count.setRange(1, MAX_IMAGES)
        self.count.setToolTip("How many image jobs to queue, each with its own seed")
        self.generate_button = QPushButton("Generate", self)
        self.generate_button.setObjectName("generate-button")
        self.generate_button.setDefault(True)
        self.error_line = QLabel(self)
        self.error_line.setObjectName("generate-error")
        self.error_line.setWordWrap(True)
        show_in_tone(self.error_line, "error")

    def _lay_out(self) -> None:
        seed_row = QHBoxLayout()
        seed_row.addWidget(self.seed_lock)
        seed_row.addWidget(self.seed, 1)
        run_row = QHBoxLayout()
        run_row.addWidget(self.comfy_button)
        run_row.addSpacing(12)
        run_row.addWidget(QLabel("Images", self))
        run_row.addWidget(self.count)
        run_row.addStretch(1)
        run_row.addWidget(self.generate_button)
        # Seed, count and the Generate button stay in sight below the scrolling form.
        controls_column = QVBoxLayout(self)
        controls_column.setContentsMargins(0, 0, 0, 0)
        controls_column.addWidget(self._scrolling_form(), 1)
        controls_column.addLayout(seed_row)
        controls_column.addWidget(self.vram_line)
        controls_column.addLayout(run_row)
        controls_column.addWidget(self.error_line)

    def _scrolling_form(self) -> QScrollArea:
        """Influencer, workflow, prompts and the workflow's parameters, scrolling together."""
        head = QFormLayout()
        head.addRow("Influencer", self.influencer_box)
        workflow_row = QHBoxLayout()
        workflow_row.addWidget(self.template_box, 1)
        workflow_row.addWidget(self.add_workflow_button)
        workflow_row.addWidget(self.edit_workflow_button)
        head.addRow("Workflow", workflow_row)
        head.addRow("", self.template_note)
        left = QWidget(self)
        column = QVBoxLayout(left)
        column.addLayout(head)
        column.addWidget(self.comfy_line)
        column.addWidget(QLabel("Prompt", self))
        column.addWidget(self.prompt)
        column.addWidget(QLabel("Negative prompt", self))
        column.addWidget(self.negative)
        column.addWidget(self.form)
        column.addStretch(1)
        scroller = QScrollArea(self)
        scroller.setWidgetResizable(True)
        scroller.setFrameShape(QFrame.Shape.NoFrame)
        scroller.setWidget(left)
        scroller.setMinimumWidth(360)
        return scroller

    def show_template(self, template: WorkflowTemplate | None) -> None:
        """The template's parameters with their defaults, and the VRAM they need."""
        self.form.set_template(template)
        self.vram_line.follow(template)

    def values(self, template: WorkflowTemplate, trigger: str) -> dict[str, object]:
        """The request's values: the form's (an empty image left out), the prompts with the
        trigger word in front, and the seed (-1: a new random one per image)."""
        values = {k: v for k, v in self.form.values().items()
                  if not (template.parameters[k].type == "image" and v == "")}
        if "positive" in template.parameters:
            values["positive"] = with_trigger(self.prompt.toPlainText(), trigger)
        if "negative" in template.parameters:
            values["negative"] = self.negative.toPlainText()
        if "seed" in template.parameters:
            locked = self.seed_lock.isChecked() and self.seed.text().strip()
            values["seed"] = int(self.seed.text()) if locked else -1
        return values

    def _on_seed_lock_toggled(self, on: bool) -> None:
        self.seed.setEnabled(on)
        if on and not self.seed.text():
            self.seed.setText(str(secrets.randbelow(RANDOM_SEED_LIMIT + 1)))
