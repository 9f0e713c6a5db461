"""Generate opens on the workflow, prompts and parameters the user last had, per workspace,
through ``context.ui_state`` (written off the UI thread, a second after the last change).

What is remembered: the workflow, both prompts, every parameter the form shows, the seed lock
and seed, and the count. It is taken when a prompt, the workflow, the seed or the count changes,
when the user generates, and when the page is left (parameters have no change signal of their
own). It is given back once per workspace, when that workspace's workflows are first listed.
"""
from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QEvent, QObject

if TYPE_CHECKING:
    from studio.ui.pages.generate import GeneratePage


class GenerateMemory(QObject):
    def __init__(self, page: GeneratePage) -> None:
        super().__init__(page)
        self.page = page
        self._restored_for: uuid.UUID | None = None  # remembering starts once restored
        page.templates_loaded.connect(self._on_templates_loaded)
        for signal in (page.prompt.textChanged, page.negative.textChanged, page.seed.textChanged,
                       page.seed_lock.toggled, page.count.valueChanged,
                       page.template_box.activated, page.generate_button.clicked):
            signal.connect(self.remember)
        page.installEventFilter(self)

    def _key(self) -> str:
        return f"generate/form/{self.page.context.workspace_id}"

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt's name)
        if watched is self.page and event.type() == QEvent.Type.Hide:
            self.remember()
        return False

    def remember(self, *_: object) -> None:
        page = self.page
        template = page.current_template()
        if self._restored_for != page.context.workspace_id or template is None:
            return
        values = {name: value for name, value in page.form.values().items()
                  if isinstance(value, (str, int, float, bool))}
        page.context.remember(self._key(), {
            "template": template.name, "positive": page.prompt.toPlainText(),
            "negative": page.negative.toPlainText(), "values": values,
            "seed_lock": page.seed_lock.isChecked(), "seed": page.seed.text(),
            "count": page.count.value()})

    def _on_templates_loaded(self) -> None:
        workspace = self.page.context.workspace_id
        if self._restored_for == workspace:
            return
        self._restored_for = None  # the restore's own changes are not taken for the user's
        saved = self.page.context.recall(self._key(), None)
        if isinstance(saved, dict):
            self._restore(saved)
        self._restored_for = workspace

    def _restore(self, saved: dict[str, Any]) -> None:
        page = self.page
        name = saved.get("template")
        if isinstance(name, str) and name in page.templates and name != page.template_box.currentData():
            page.select_template(name)
        template = page.current_template()
        if template is None or template.name != name:
            return  # that workflow is gone: its values mean nothing to another one
        for field, edit in (("positive", page.prompt), ("negative", page.negative)):
            if isinstance(saved.get(field), str) and field in template.parameters:
                edit.setPlainText(saved[field])
        for key, value in (saved.get("values") or {}).items():
            if key in template.parameters:
                page.form.set_value(key, value)
        page.seed_lock.setChecked(bool(saved.get("seed_lock")))
        page.seed.setText(str(saved.get("seed") or ""))
        if isinstance(saved.get("count"), int):
            page.count.setValue(saved["count"])
