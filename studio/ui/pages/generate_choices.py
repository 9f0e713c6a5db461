"""What the Generate form's pickers offer, kept current.

Two sources: ComfyUI's own lists for the template's combo parameters (checkpoints, samplers,
LoRAs in its folder, from /object_info) and the studio's LoRA library (a training's checkpoints,
of the template's family). A LoRA trained a minute ago is in the library before ComfyUI has its
file; the job hands it over at submit. The library is read again whenever the live state reports
a LoRA change, from this window, the worker or the command line.
"""
from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from studio.engine.comfyui.workflows import WorkflowTemplate
from studio.engine.db.changes import ChangeSet, Entity
from studio.ui.context import StudioContext
from studio.ui.errors import one_line
from studio.ui.pages import generate_ops as ops
from studio.ui.tasks import run_in_background
from studio.ui.widgets.parameter_form import ParameterForm

LORA = "lora_name"


class PickerChoices(QObject):
    comfy_loaded = Signal()  # ComfyUI answered; the pickers hold its lists
    comfy_failed = Signal(str)  # ComfyUI did not answer: why, in one line
    library_loaded = Signal(list)  # list[str]: the library's LoRAs now offered

    def __init__(self, context: StudioContext, form: ParameterForm, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.form = form
        self.template: WorkflowTemplate | None = None
        self.comfy: dict[str, list[str]] = {}
        self.library: list[str] = []
        context.live.changed.connect(self._on_changed)

    def load(self, template: WorkflowTemplate) -> None:
        """Asks ComfyUI and the library for the template's choices, both in the background."""
        self.template, self.comfy, self.library = template, {}, []
        context = self.context
        run_in_background(lambda: ops.comfy_choices(context, template), receiver=self, lane="probe",
                          on_done=lambda found: self._on_comfy(template, found),
                          on_error=lambda exc: self._on_comfy_failed(template, exc))
        self.load_library()

    def load_library(self) -> None:
        template, context = self.template, self.context
        if template is None or LORA not in template.parameters:
            return
        run_in_background(lambda: ops.library_loras(context, template.base), receiver=self,
                          on_done=lambda names: self._on_library(template, names),
                          on_error=lambda exc: None)  # the pickers keep ComfyUI's list

    def pick_lora(self, trigger: str) -> None:
        """The influencer's LoRA when one offered is named after its trigger word, unless an
        offered LoRA is chosen already (a user's workflow brings the one it was saved with)."""
        trigger = trigger.casefold()
        if not trigger or LORA not in self.form.editors:
            return
        offered = self.form.options(LORA)
        current = self.form.value(LORA)
        if current and current in offered:
            return
        match = next((o for o in offered if o and trigger in o.casefold()), None)
        if match:
            self.form.set_value(LORA, match)

    def loras(self) -> list[str]:
        """ComfyUI's LoRAs first, in its order, then the library's it lacks."""
        known = self.comfy.get(LORA, [])
        return [*known, *(name for name in self.library if name not in known)]

    def _on_comfy(self, template: WorkflowTemplate, found: dict[str, list[str]]) -> None:
        if template is not self.template:
            return
        self.comfy = found
        self.form.set_choices({**found, **({LORA: self.loras()} if LORA in template.parameters else {})})
        self.comfy_loaded.emit()

    def _on_comfy_failed(self, template: WorkflowTemplate, exc: BaseException) -> None:
        if template is self.template:
            self.comfy_failed.emit(one_line(exc))

    def _on_library(self, template: WorkflowTemplate, names: list[str]) -> None:
        if template is not self.template:
            return
        self.library = names
        self.form.set_choices({LORA: self.loras()})
        self.library_loaded.emit(names)

    def _on_changed(self, changes: ChangeSet) -> None:
        if changes.touches(Entity.LORA, workspace_id=self.context.workspace_id):
            self.load_library()
