""""Use in Generate": the Generate page set up for one LoRA of the library.

Its influencer is chosen (her trigger word leads the prompt), a workflow of the LoRA's family
(the current one when it fits, else a text-to-image one of that family), and the LoRA itself,
as soon as the picker offers it (the library is read in the background).
"""
from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING

from studio.engine.comfyui.workflows import WorkflowTemplate
from studio.engine.loras.family import VIDEO_FAMILIES, a_title
from studio.engine.loras.library import LoraUse
from studio.ui.errors import one_line
from studio.ui.pages.generate_choices import LORA
from studio.ui.tasks import run_in_background

if TYPE_CHECKING:
    from studio.ui.pages.generate import GeneratePage


def use_lora(page: GeneratePage, lora_id: uuid.UUID) -> None:
    """Reads the LoRA in the background, then sets the page up for it."""
    from studio.engine.loras.library import use_of

    context = page.context
    run_in_background(lambda: use_of(context.studio, context.workspace_id, lora_id), receiver=page,
                      on_done=lambda use: apply_use(page, use),
                      on_error=lambda exc: page.show_message(one_line(exc)))


def apply_use(page: GeneratePage, use: LoraUse) -> None:
    page.tabs.setCurrentIndex(0)
    template = template_for(page.templates, page.current_template(), use.family)
    if template is None:
        page.show_message(no_workflow_line(use))
        return
    page.choices.want(use.lora_name)
    box = page.influencer_box
    index = next((i for i in range(1, box.count()) if box.itemData(i).id == use.influencer_id), -1)
    if index >= 0 and index != box.currentIndex():
        box.setCurrentIndex(index)
        box.activated.emit(index)  # as if the user chose her: trigger word, LoRA order
    if template is not page.current_template():
        page.select_template(template.name)
    page.show_message(f"Generating with {use.title} ({use.lora_name}).")


def no_workflow_line(use: LoraUse) -> str:
    """Why Generate cannot take the LoRA: a video model's LoRA belongs on the Video page."""
    if use.family in VIDEO_FAMILIES:
        return (f"{use.title} is {a_title(use.family)} LoRA for clips: choose it in an image-to-video workflow "
                "on the Video page.")
    return (f"No installed workflow takes {a_title(use.family)} LoRA: add one next to Workflow with “Add…” "
            f"to use {use.title}.")


def template_for(templates: Mapping[str, WorkflowTemplate], current: WorkflowTemplate | None,
                 family: str | None) -> WorkflowTemplate | None:
    """The current workflow when it takes a LoRA of ``family``; else a text-to-image one of that
    family; else any of it. A LoRA of unknown family goes with any workflow that takes a LoRA."""
    takes = [t for t in templates.values() if LORA in t.parameters]
    if current is not None and current in takes and (family is None or current.base == family):
        return current
    same = [t for t in takes if family is None or t.base == family]
    return next((t for t in same if t.kind == "txt2img"), None) or next(iter(same), None)
