"""The Training form as the user last left it, per workspace, through ``context.ui_state``.

The page calls ``restore_training_form`` once its presets are listed and then connects the
form's ``changed`` to ``remember_training_form``; it fills the dataset list through
``set_datasets_as_before``.
"""
from __future__ import annotations

from typing import Any

from studio.ui.context import StudioContext
from studio.ui.models.training_data import DatasetChoice
from studio.ui.widgets.training_form import TrainingForm


def _key(context: StudioContext) -> str:
    return f"training/form/{context.workspace_id}"


def remember_training_form(context: StudioContext, form: TrainingForm) -> None:
    """Preset, every field and the dataset; a list being refilled (no dataset for a moment)
    keeps the dataset remembered before."""
    before = context.recall(_key(context), {})
    choice = form.dataset_box.currentData()
    dataset = str(choice.dataset_id) if choice is not None else before.get("dataset")
    values = {name: list(v) if isinstance(v, tuple) else v for name, v in form.form_values().items()}
    context.remember(_key(context), {"preset": form.preset_box.currentData(), "values": values,
                                     "dataset": dataset})


def restore_training_form(context: StudioContext, form: TrainingForm) -> None:
    """The preset chosen last (a built-in one; a user preset listed later keeps the values),
    then the values as they were."""
    saved: dict[str, Any] = context.recall(_key(context), {})
    position = form.preset_box.findData(saved.get("preset"))
    if position >= 0:
        form.preset_box.setCurrentIndex(position)
    for name, value in saved.get("values", {}).items():
        if name in form.editors:
            form.set_value(name, value)


def set_datasets_as_before(context: StudioContext, form: TrainingForm,
                           choices: list[DatasetChoice]) -> None:
    """Fills the dataset list and chooses the dataset used last when the list has it."""
    wanted = context.recall(_key(context), {}).get("dataset")  # read before the refill changes it
    form.set_datasets(choices)
    for position, choice in enumerate(choices):
        if str(choice.dataset_id) == wanted:
            form.dataset_box.setCurrentIndex(position)
            return
