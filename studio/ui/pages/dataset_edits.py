"""The Datasets page's edits of the open dataset: captions, crops, exclusions, batch edits, undo
and redo, each one engine call on the database lane.

``DatasetEdits`` is a collaborator the page owns: it is handed the context and a way to ask
which dataset is open, and says what happened through signals. The rows shown are read again
when the live state reports the write, and once more when the edit is done.
"""
from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal

from studio.engine.db.models import Dataset
from studio.engine.errors import CaptionConflict
from studio.ui.context import StudioContext
from studio.ui.errors import one_line
from studio.ui.pages import dataset_ops as ops
from studio.ui.tasks import run_in_background


class DatasetEdits(QObject):
    message_shown = Signal(str)
    edited = Signal()
    caption_conflicted = Signal(object, str)  # image id, the caption saved elsewhere
    caption_settled = Signal(object)  # image id: its save is stored, or failed

    def __init__(self, context: StudioContext, dataset: Callable[[], Dataset | None],
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self._dataset = dataset

    def save_caption(self, image_id: uuid.UUID, text: str, expected: object) -> None:
        """``expected``: the caption the editor started from, or None to replace whatever is there."""
        dataset, context = self._dataset(), self.context
        if dataset is None:
            return
        run_in_background(
            lambda: ops.save_caption(context, dataset, image_id, text, expected if isinstance(expected, str) else None),
            receiver=self, on_done=lambda result: self._on_caption_saved(image_id, result),
            on_error=lambda exc: self._on_caption_failed(image_id, exc))

    def _on_caption_saved(self, image_id: uuid.UUID, result: object) -> None:
        self.caption_settled.emit(image_id)
        self._on_done("", result)

    def _on_caption_failed(self, image_id: uuid.UUID, exc: BaseException) -> None:
        self.caption_settled.emit(image_id)
        if isinstance(exc, CaptionConflict):
            self.caption_conflicted.emit(image_id, exc.current)
        else:
            self.message_shown.emit(f"Not saved: {one_line(exc)}")

    def save_crop(self, image_id: uuid.UUID, crop: dict[str, Any]) -> None:
        self._run(ops.save_crop, image_id, crop, done="Crop saved.")

    def set_excluded(self, image_ids: list[uuid.UUID], excluded: bool, label: str = "") -> None:
        """Excludes (or brings back) these pictures as one step that Undo takes back."""
        if image_ids:
            done = "Pictures excluded: {} (Undo brings them back)." if excluded else "Pictures brought back: {}."
            self._run(ops.set_excluded, image_ids, excluded, label, done=done)

    def apply(self, op: Any, image_ids: list[uuid.UUID] | None) -> None:
        """A batch caption edit (``captions`` op) over these images, or all of them."""
        self._run(ops.apply, op, image_ids, done="{} captions changed.")

    def undo(self) -> None:
        self._run(ops.undo, done="Undone: {}")

    def redo(self) -> None:
        self._run(ops.redo, done="Redone: {}")

    def _run(self, fn: Callable[..., object], *args: Any, done: str) -> None:
        dataset, context = self._dataset(), self.context
        if dataset is None:
            return
        run_in_background(lambda: fn(context, dataset, *args), receiver=self,
                          on_done=lambda result: self._on_done(done, result),
                          on_error=lambda exc: self.message_shown.emit(f"Not saved: {one_line(exc)}"))

    def _on_done(self, done: str, result: object) -> None:
        if done:
            self.message_shown.emit(done.format(result) if result is not None else done.split(":")[0])
        self.edited.emit()
