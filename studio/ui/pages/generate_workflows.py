"""The user's own ComfyUI workflows on the Generate page: add a file, choose its parameters, edit.

A file is read in the background, then the mapping dialog asks which values become parameters;
saving writes the workflow into the studio's workflows folder (the live state then reports a
template change to every window).
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QFileDialog, QWidget

from studio.engine.comfyui.workflows import WorkflowTemplate
from studio.ui.context import StudioContext
from studio.ui.errors import one_line
from studio.ui.pages import generate_ops as ops
from studio.ui.tasks import run_in_background
from studio.ui.widgets.workflow_dialog import WorkflowDialog


class UserWorkflows(QObject):
    dialog_shown = Signal()
    saved = Signal(object)  # WorkflowTemplate
    message_shown = Signal(str)

    def __init__(self, context: StudioContext, parent: QWidget) -> None:
        super().__init__(parent)
        self.context = context
        self.window = parent
        self.dialog: WorkflowDialog | None = None

    def choose_file(self) -> None:
        chosen, _ = QFileDialog.getOpenFileName(self.window, "Add a ComfyUI workflow (API format)", "",
                                                "ComfyUI workflows (*.json);;All files (*)")
        if chosen:
            self.add_file(Path(chosen))

    def add_file(self, path: Path) -> None:
        """Reads the file in the background, then asks which values become parameters."""
        run_in_background(lambda: ops.read_workflow(path), receiver=self, lane="io",
                          on_done=self._open_dialog,
                          on_error=lambda exc: self.message_shown.emit(one_line(exc)))

    def edit(self, template: WorkflowTemplate) -> None:
        self._open_dialog(ops.edit_workflow(template))

    def _open_dialog(self, draft: ops.WorkflowDraft) -> None:
        self.dialog = WorkflowDialog(draft.graph, name=draft.name, mapping=draft.mapping,
                                     editing=draft.editing, parent=self.window)
        self.dialog.accepted.connect(lambda: self._save(draft))
        self.dialog.open()
        self.dialog_shown.emit()

    def _save(self, draft: ops.WorkflowDraft) -> None:
        assert self.dialog is not None
        name, mapping, context = self.dialog.name.text().strip(), self.dialog.mapping(), self.context
        run_in_background(lambda: ops.save_workflow(context, draft, name, mapping), receiver=self,
                          lane="io", on_done=self._on_saved,
                          on_error=lambda exc: self.message_shown.emit(one_line(exc)))

    def _on_saved(self, template: WorkflowTemplate) -> None:
        self.message_shown.emit(f"Workflow '{template.name}' saved with "
                                f"{len(template.parameters)} parameter(s).")
        self.saved.emit(template)
