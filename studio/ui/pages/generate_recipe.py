"""Recipes back into Generate's form: from a gallery picture's recipe, or from a PNG the studio
made, dropped anywhere on the Generate page (its recipe is read in the background).

Loading chooses the recipe's workflow when it is installed, else one of the recipe's model family
(FLUX.1, Qwen-Image, …), sets the prompts, the seed (locked, so the picture can be made again) and
every parameter the form shows, and says in one line what the workflow in the form has no place for.
"""
from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QEvent, QObject, Signal
from PySide6.QtGui import QDragEnterEvent, QDropEvent

from studio.engine.comfyui.recipe_file import read_recipe
from studio.engine.comfyui.recipe_template import template_for_recipe
from studio.engine.comfyui.workflows import WorkflowTemplate
from studio.engine.loras.family import FAMILY_TITLES
from studio.ui.errors import one_line
from studio.ui.tasks import run_in_background
from studio.ui.widgets.parameter_form import HIDDEN
from studio.ui.widgets.recipe_view import recipe_values

if TYPE_CHECKING:
    from studio.ui.pages.generate import GeneratePage

INPUT_KINDS = ("img2img", "edit")  # the workflows "Use as input" starts from a picture
DROP_EVENTS = (QEvent.Type.DragEnter, QEvent.Type.DragMove, QEvent.Type.Drop)


def input_template(templates: Mapping[str, WorkflowTemplate],
                   current: WorkflowTemplate | None) -> WorkflowTemplate | None:
    """The workflow "Use as input" fills: the current one when it takes a picture, else one of its
    family, else a plain image-to-image one of any family (a picture of any family will do)."""
    candidates = sorted((t for t in templates.values() if t.kind in INPUT_KINDS),
                        key=lambda t: (t.kind != "img2img", t.name))
    if current is not None and current in candidates:
        return current
    return next((t for t in candidates if current and t.base == current.base), candidates[0] if candidates else None)


def family_title(family: object) -> str:
    return FAMILY_TITLES.get(str(family), str(family))


def dropped_files(event: QDropEvent) -> list[Path]:
    mime = event.mimeData()
    if not mime.hasUrls():
        return []
    return [Path(url.toLocalFile()) for url in mime.urls() if url.isLocalFile()]


class RecipeLoader(QObject):
    recipe_loaded = Signal(str)  # the line shown after a recipe reached the form
    recipe_refused = Signal(str)  # why a dropped file gave no recipe, in one line

    def __init__(self, page: GeneratePage) -> None:
        super().__init__(page)
        self.page = page
        page.setAcceptDrops(True)
        # The prompt boxes take text drops themselves; files dropped on them load a recipe too.
        for watched in (page, page.prompt.viewport(), page.negative.viewport()):
            watched.installEventFilter(self)
        page.gallery.recipe_load_requested.connect(self.load)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt's name)
        if event.type() not in DROP_EVENTS or not isinstance(event, (QDragEnterEvent, QDropEvent)):
            return False
        files = dropped_files(event)
        if not files:
            return False  # text dropped on a prompt stays the text box's business
        event.acceptProposedAction()
        if event.type() == QEvent.Type.Drop:
            self.load_file(files[0])
        return True

    def load_file(self, path: Path) -> None:
        """Reads the recipe of ``path`` in the background and loads it."""
        run_in_background(lambda: read_recipe(path), receiver=self, lane="io", on_done=self.load,
                          on_error=self._on_refused)

    def _on_refused(self, exc: BaseException) -> None:
        line = one_line(exc)
        self.page.show_message(line)
        self.recipe_refused.emit(line)

    def load(self, recipe: dict[str, Any]) -> None:
        """Fills the Generate form from ``recipe`` and shows the Generate tab."""
        page = self.page
        wanted = str(recipe.get("template") or "")
        # Its own workflow, else one of its family: the model the recipe names needs that family's loaders.
        fitting = template_for_recipe(recipe, page.templates)
        if fitting is not None and fitting.name != page.template_box.currentData():
            page.select_template(fitting.name)
        template = page.current_template()
        if template is None:
            self._on_refused(ValueError("Choose a workflow first: no workflow is installed."))
            return
        left_out = self._apply(recipe, set(template.parameters))
        page.tabs.setCurrentIndex(0)
        line = f"Loaded the recipe into {template.title}."
        if wanted and wanted not in page.templates:
            line = f"The workflow {wanted} is not installed; loaded what fits into {template.title}."
            if fitting is None and recipe.get("family") not in (None, "", "other", template.base):
                line = (f"No {family_title(recipe.get('family'))} workflow is installed; loaded what fits into "
                        f"{template.title}.")
        if left_out:
            line += f" This workflow has no {', '.join(left_out)}: left out."
        page.show_message(line)
        self.recipe_loaded.emit(line)

    def _apply(self, recipe: dict[str, Any], accepted: set[str]) -> list[str]:
        """Sets every value the form has a place for; returns the names of the others."""
        page, left_out = self.page, []
        values = dict(recipe_values(recipe))
        if isinstance(recipe.get("seed"), int) and recipe["seed"] >= 0:
            values["seed"] = recipe["seed"]  # the seed the picture was made with, never "random"
        for name, value in values.items():
            if name not in accepted:
                if name not in HIDDEN and value not in (None, ""):
                    left_out.append(name.replace("_", " "))
            elif name == "positive":
                page.prompt.setPlainText(str(value))
            elif name == "negative":
                page.negative.setPlainText(str(value))
            elif name == "seed":
                self._set_seed(value)
            elif value is not None:
                page.form.set_value(name, value)
        return left_out

    def _set_seed(self, seed: object) -> None:
        if isinstance(seed, int) and seed >= 0:
            self.page.seed_lock.setChecked(True)
            self.page.seed.setText(str(seed))
        else:
            self.page.seed_lock.setChecked(False)
