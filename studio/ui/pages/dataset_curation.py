"""The Datasets page's curation: keys that move through the pictures, excluding and bringing
back, the bulk exclusions with their preview, the tag panel's edits and the export check.

``DatasetCuration`` is a collaborator the page owns; every write goes through the page's
``DatasetEdits``, so each one is a step of the caption history that Undo takes back.
"""
from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QPoint, Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QBoxLayout, QDialog, QMenu, QMessageBox, QWidget

from studio.engine.datasets.curation import duplicate_groups
from studio.engine.datasets.service import restore_images, trash_images
from studio.engine.datasets.tags import RemoveTags, RenameTag
from studio.ui.errors import one_line
from studio.ui.pages.dataset_identity import DatasetIdentity
from studio.ui.shortcuts import BY_ACTION
from studio.ui.tasks import run_in_background
from studio.ui.widgets.duplicate_review import DuplicateReview
from studio.ui.widgets.exclude_preview import BlurryPreview
from studio.ui.widgets.undo_bar import UndoBar

if TYPE_CHECKING:
    from studio.ui.pages.datasets import DatasetsPage

KEYS = ("next", "previous", "next-uncaptioned", "exclude", "trash")  # datasets.* in the shortcut table


class EmptyCaptionWarning(QMessageBox):
    """Asked before an export that would train pictures on no caption at all."""

    def __init__(self, count: int, parent: QWidget | None = None) -> None:
        super().__init__(QMessageBox.Icon.Warning, "Pictures without a caption",
                         f"{count} pictures to export have no caption. They would train on the "
                         "trigger word and class alone.", parent=parent)
        self.export_button = self.addButton("Export anyway", QMessageBox.ButtonRole.AcceptRole)
        self.show_button = self.addButton("Show them", QMessageBox.ButtonRole.ActionRole)
        self.addButton(QMessageBox.StandardButton.Cancel)
        self.setDefaultButton(self.show_button)


class DatasetCuration(QObject):
    def __init__(self, page: DatasetsPage) -> None:
        super().__init__(page)
        self.page = page
        self.actions = {name: self._action(name) for name in KEYS}
        self.actions["next"].triggered.connect(lambda: page.step(1))
        self.actions["previous"].triggered.connect(lambda: page.step(-1))
        self.actions["next-uncaptioned"].triggered.connect(self.next_uncaptioned)
        self.actions["exclude"].triggered.connect(self.toggle_excluded)
        self.actions["trash"].triggered.connect(self.trash_selected)
        self.undo_bar = UndoBar(page)  # "2 pictures moved to the trash. Undo"
        self.undo_bar.undo_requested.connect(self.undo_trash)
        self._trashed: list[uuid.UUID] = []
        self._undo: Callable[[], None] | None = None  # what the bar's Undo does when not a trash
        holder = page.status.parentWidget()
        column = holder.layout() if holder is not None else None
        if isinstance(column, QBoxLayout):
            column.insertWidget(column.indexOf(page.status), self.undo_bar)
        page.grid.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        page.grid.customContextMenuRequested.connect(self._menu)
        page.summary.exclude_duplicates_requested.connect(self.review_duplicates)
        page.summary.exclude_blurry_requested.connect(self.preview_blurry)
        page.summary.export_requested.connect(self.ask_export)
        page.tag_panel.tag_chosen.connect(page.filters.tag.setCurrentText)
        page.tag_panel.rename_requested.connect(
            lambda old, new: page.edits.apply(RenameTag(old, new), None))
        page.tag_panel.delete_requested.connect(lambda tag: page.edits.apply(RemoveTags((tag,)), None))
        self.identity = DatasetIdentity(page)  # identity flags, reference faces, face clusters

    def _action(self, name: str) -> QAction:
        # Page-wide: the caption box takes the keys it types (X, PgDown) before these see them.
        entry = BY_ACTION[f"datasets.{name}"]
        action = QAction(entry.description, self.page)
        action.setShortcuts(entry.sequences())
        action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.page.addAction(action)
        return action

    # Moving ----------------------------------------------------------------------------------

    def next_uncaptioned(self) -> None:
        page = self.page
        page.editor.flush()
        start, count = page.grid.currentIndex().row(), page.model.rowCount()
        typed = page.editor.text.toPlainText()
        for offset in range(1, count + 1):
            position = (start + offset) % count
            row = page.model.row_at(position)
            if row is None:
                continue
            if not (typed if row.id == page.editor.image_id else row.caption).strip():
                page.select_position(position)
                return
        page.show_message("Every picture shown has a caption.")

    # Excluding -------------------------------------------------------------------------------

    def targets(self) -> list[uuid.UUID]:
        """The selected pictures, or the current one."""
        current = self.page.current_row()
        return self.page.selected_ids() or ([current.id] if current else [])

    def toggle_excluded(self) -> None:
        """Excludes the chosen pictures, or brings them back when all of them are excluded."""
        ids = self.targets()
        rows = [r for r in (self.page.model.row(i) for i in ids) if r is not None]
        if rows:
            self.page.edits.set_excluded(ids, not all(r.excluded for r in rows))

    def context_menu(self) -> QMenu | None:
        """The grid's right-click menu for the selected pictures (None when there are none)."""
        ids = self.targets()
        if not ids:
            return None
        count = f" ({len(ids)})" if len(ids) > 1 else ""
        menu = QMenu(self.page)
        menu.addAction(f"Exclude{count}\tX", lambda: self.page.edits.set_excluded(ids, True))
        menu.addAction(f"Bring back{count}", lambda: self.page.edits.set_excluded(ids, False))
        menu.addAction(f"Move to trash{count}\tDel", self.trash_selected)
        menu.addSeparator()
        menu.addAction("Show excluded only", lambda: self.page.filters.set_value("excluded", "only"))
        menu.addAction("Next without a caption\tCtrl+J", self.next_uncaptioned)
        return menu

    def trash_selected(self) -> None:
        """The chosen pictures go to the trash; the bar under the grid offers to bring them back."""
        page, ids = self.page, self.targets()
        if page.dataset is None or not ids:
            return
        page.editor.flush()
        studio, dataset = page.context.studio, page.dataset
        run_in_background(lambda: trash_images(studio, dataset, ids), receiver=self,
                          on_done=self._on_trashed, on_error=lambda exc: page.show_message(one_line(exc)))

    def offer_undo(self, text: str, undo: Callable[[], None]) -> None:
        """The bar offers to take back another one-click step (an exclusion) with ``undo``."""
        self._trashed, self._undo = [], undo
        self.undo_bar.offer(text)

    def _on_trashed(self, ids: list[uuid.UUID]) -> None:
        self._trashed, self._undo = ids, None
        if ids:
            text = "1 picture" if len(ids) == 1 else f"{len(ids)} pictures"
            self.undo_bar.offer(f"{text} moved to the trash.")
        self.page.refresh()

    def undo_trash(self) -> None:
        if self._undo is not None:
            undo, self._undo = self._undo, None
            undo()
            return
        page, ids = self.page, self._trashed
        if page.dataset is None or not ids:
            return
        studio, dataset = page.context.studio, page.dataset
        self._trashed = []
        run_in_background(lambda: restore_images(studio, dataset, ids), receiver=self,
                          on_done=lambda _count: page.refresh(),
                          on_error=lambda exc: page.show_message(one_line(exc)))

    def _menu(self, point: QPoint) -> None:
        if (menu := self.context_menu()) is not None:
            menu.exec(self.page.grid.viewport().mapToGlobal(point))
            menu.deleteLater()

    def review_duplicates(self) -> None:
        page = self.page
        groups = duplicate_groups(page.model.all_rows())
        if not groups:
            page.show_message("No near-duplicates: run the analysis to find them.")
            return
        dialog = DuplicateReview(groups, page.context.studio, page.context.studio.paths.cache_dir, page)
        if page.open_dialog(dialog) == QDialog.DialogCode.Accepted:
            ids = dialog.to_exclude()
            page.edits.set_excluded(ids, True, f"Exclude {len(ids)} near-duplicates")

    def preview_blurry(self) -> None:
        page = self.page
        dialog = BlurryPreview(page.model.all_rows(), page.context.studio,
                               page.context.studio.paths.cache_dir, page)
        dialog.threshold.setValue(page.filters.blur_threshold.value())  # one threshold for both
        if page.open_dialog(dialog) == QDialog.DialogCode.Accepted:
            page.filters.blur_threshold.setValue(dialog.threshold.value())
            ids = dialog.chosen()
            page.edits.set_excluded(ids, True, f"Exclude {len(ids)} blurry")

    # Export ----------------------------------------------------------------------------------

    def ask_export(self) -> None:
        """Warns first when pictures to export have an empty caption; "Show them" filters to them."""
        page = self.page
        page.editor.flush()
        empty = [r for r in page.model.all_rows() if not r.excluded and not r.caption.strip()]
        if empty:
            box = EmptyCaptionWarning(len(empty), page)
            page.open_dialog(box)
            if box.clickedButton() is box.show_button:
                page.filters.set_value("excluded", "hide")
                page.filters.set_value("caption", "without")
            if box.clickedButton() is not box.export_button:
                return
        page.jobs.ask_export()
