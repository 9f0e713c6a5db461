"""What the Generate form's pickers offer, kept current.

Two sources: ComfyUI's own lists for the template's combo parameters (checkpoints, samplers,
LoRAs in its folder, from /object_info) and the studio's LoRA library (trained and imported
LoRAs of the template's family). The LoRA picker shows the chosen influencer's active LoRA
first, then the library's LoRAs of the family, then the rest of ComfyUI's folder; a library
LoRA of another family is never offered. A LoRA trained a minute ago is in the library before
ComfyUI has its file; the job hands it over at submit. The library is read again whenever the
live state reports a LoRA change, from this window, the worker or the command line.
"""
from __future__ import annotations

import uuid

from PySide6.QtCore import QObject, Signal

from studio.engine.comfyui.workflows import WorkflowTemplate
from studio.engine.db.changes import ChangeSet, Entity
from studio.engine.loras.library import LoraOffer
from studio.ui.context import StudioContext
from studio.ui.errors import one_line
from studio.ui.pages import generate_ops as ops
from studio.ui.tasks import run_in_background
from studio.ui.widgets.parameter_form import ParameterForm

LORA = "lora_name"
NO_OFFER = LoraOffer(names=[], active=None, other_families=frozenset())


def library_offer(context: StudioContext, family: str, influencer_id: uuid.UUID | None) -> LoraOffer:
    from studio.engine.comfyui.loras import loras_folder
    from studio.engine.loras.library import offer
    return offer(context.studio, context.workspace_id, family, influencer_id,
                 comfy_folder=loras_folder(context.studio.settings))


class PickerChoices(QObject):
    comfy_loaded = Signal()  # ComfyUI answered; the pickers hold its lists
    comfy_failed = Signal(str)  # ComfyUI did not answer: why, in one line
    library_loaded = Signal(list)  # list[str]: the library's LoRAs now offered

    def __init__(self, context: StudioContext, form: ParameterForm, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.form = form
        self.template: WorkflowTemplate | None = None
        self.influencer_id: uuid.UUID | None = None
        self.comfy: dict[str, list[str]] = {}
        self.offer = NO_OFFER
        self.wanted = ""  # a LoRA asked for ("Use in Generate") that the picker chooses once offered
        self.picked = ""  # what pick_lora chose: a better pick may replace it, a user's choice stays
        context.live.changed.connect(self._on_changed)

    def load(self, template: WorkflowTemplate) -> None:
        """Asks ComfyUI and the library for the template's choices, both in the background."""
        self.template, self.comfy, self.offer = template, {}, NO_OFFER
        context = self.context
        run_in_background(lambda: ops.comfy_choices(context, template), receiver=self, lane="probe",
                          on_done=lambda found: self._on_comfy(template, found),
                          on_error=lambda exc: self._on_comfy_failed(template, exc))
        self.load_library()

    def set_influencer(self, influencer_id: uuid.UUID | None) -> None:
        """The influencer whose active LoRA leads the list."""
        if influencer_id != self.influencer_id:
            self.influencer_id = influencer_id
            self.load_library()

    def want(self, lora_name: str) -> None:
        """Chooses ``lora_name`` now when offered, else as soon as the library offers it."""
        self.wanted = lora_name
        self._apply_wanted()

    def load_library(self) -> None:
        template, context, influencer_id = self.template, self.context, self.influencer_id
        if template is None or LORA not in template.parameters:
            return
        run_in_background(lambda: library_offer(context, template.base, influencer_id), receiver=self,
                          on_done=lambda found: self._on_library(template, influencer_id, found),
                          on_error=lambda exc: None)  # the pickers keep ComfyUI's list

    def pick_lora(self, trigger: str) -> None:
        """The LoRA asked for, else the one chosen already when offered (a user's workflow brings
        the one it was saved with), else the influencer's active LoRA, else one named after the
        influencer's trigger word."""
        if LORA not in self.form.editors or self._apply_wanted():
            return
        offered = self.form.options(LORA)
        current = self.form.value(LORA)
        if current and current in offered and current != self.picked:
            return
        trigger = trigger.casefold()
        match = self.offer.active if self.offer.active in offered else \
            next((o for o in offered if o and trigger and trigger in o.casefold()), None)
        if match:
            self.form.set_value(LORA, match)
            self.picked = match

    def loras(self) -> list[str]:
        """The library's LoRAs of the family (the active one first), then ComfyUI's others."""
        mine = self.offer.names
        rest = [n for n in self.comfy.get(LORA, []) if n not in mine and n not in self.offer.other_families]
        return [*mine, *rest]

    def _apply_wanted(self) -> bool:
        if not self.wanted or self.wanted not in self.form.options(LORA):
            return False
        self.form.set_value(LORA, self.wanted)
        self.wanted = ""
        return True

    def _on_comfy(self, template: WorkflowTemplate, found: dict[str, list[str]]) -> None:
        if template is not self.template:
            return
        self.comfy = found
        self.form.set_choices({**found, **({LORA: self.loras()} if LORA in template.parameters else {})})
        self.comfy_loaded.emit()

    def _on_comfy_failed(self, template: WorkflowTemplate, exc: BaseException) -> None:
        if template is self.template:
            self.comfy_failed.emit(one_line(exc))

    def _on_library(self, template: WorkflowTemplate, influencer_id: uuid.UUID | None,
                    found: LoraOffer) -> None:
        if template is not self.template or influencer_id != self.influencer_id:
            return
        self.offer = found
        self.form.set_choices({LORA: self.loras()})
        self.library_loaded.emit(found.names)

    def _on_changed(self, changes: ChangeSet) -> None:
        if changes.touches(Entity.LORA, workspace_id=self.context.workspace_id):
            self.load_library()
