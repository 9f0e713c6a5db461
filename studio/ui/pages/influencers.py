"""Influencers: the list on the left, the persona editor and her reference faces on the right.

The list follows every change to influencers (this process's or another's) and reloads when a
portrait's thumbnails are made. An influencer changed elsewhere while its editor is open is never
overwritten silently: with no edits the editor shows the newer version; with edits a warning bar
asks whether to reload or keep them, and a save names the version it was based on, so the engine
refuses a stale one. A change that leaves the persona as it was (a portrait) never touches the form.

It opens on the influencer last shown (remembered per workspace in ``context.ui_state``), or the
first. Unsaved edits are never dropped: another influencer, New, leaving or closing asks first.
"""
from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QEventLoop, QSize, Signal
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListView,
    QMessageBox,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from studio.engine.db.changes import ChangeSet, Entity
from studio.engine.errors import StudioError
from studio.engine.influencers import (
    AVATAR_TYPES,
    Persona,
    create_influencer,
    set_avatar,
    trash_influencer,
    update_influencer,
)
from studio.engine.jobs.snapshot import JobSnapshot
from studio.ui.context import StudioContext
from studio.ui.errors import one_line, show_error
from studio.ui.models.influencers import InfluencerListModel, InfluencerRow, load_rows, saved_row
from studio.ui.tasks import run_in_background
from studio.ui.widgets.changed_bar import ChangedElsewhereBar
from studio.ui.widgets.persona_form import PersonaForm, parse_topics
from studio.ui.widgets.reference_faces import ReferenceBox
from studio.ui.widgets.scrolling import scroll_page

__all__ = ["InfluencersPage", "parse_topics"]

THUMBNAILS_JOB = "make-thumbnails"  # the worker writes a portrait's thumbnail files


class InfluencersPage(QWidget):
    influencers_changed = Signal()

    def __init__(self, context: StudioContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.model = InfluencerListModel(self)
        self.current: InfluencerRow | None = None  # None: a new, unsaved influencer
        self._newer: InfluencerRow | None = None  # saved elsewhere while the form has edits
        self._select_after_load: uuid.UUID | None = None
        self._restoring = True  # the first read opens the influencer last shown
        self._quiet = False  # the list's selection is set here, not by the user
        self._build()
        context.workspace_changed.connect(self._on_workspace_changed)
        context.live.changed.connect(self._on_live_changed)
        context.jobs.job_finished.connect(self._on_job_finished)
        self.new_influencer()
        self.reload()

    def _build(self) -> None:
        splitter = QSplitter(self)
        splitter.addWidget(self._build_list())
        splitter.addWidget(self._build_editor())
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([260, 600])
        title = QLabel("<h2>Influencers</h2>The characters this workspace runs: persona, trigger "
                       "word and portrait.", self)
        layout = QVBoxLayout(self)
        layout.addWidget(title)
        layout.addWidget(splitter, 1)

    def _build_list(self) -> QWidget:
        self.list = QListView(self)
        self.list.setModel(self.model)
        self.list.setIconSize(QSize(48, 48))
        self.list.setSpacing(2)
        self.list.selectionModel().currentChanged.connect(self._on_current_changed)
        self.new_button = QPushButton("New influencer", self)
        self.new_button.clicked.connect(self._on_new_clicked)
        left = QWidget(self)
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(self.list, 1)
        left_layout.addWidget(self.new_button)
        return left

    def _build_editor(self) -> QWidget:
        self.form = PersonaForm(self)
        self.heading = QLabel(self)
        self.changed_bar = ChangedElsewhereBar(self)
        self.changed_bar.reload_requested.connect(self._on_reload_requested)
        self.changed_bar.keep_requested.connect(self._on_keep_requested)
        self.message = QLabel(self)
        self.message.setWordWrap(True)
        right = QWidget(self)
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(8, 0, 0, 0)
        right_layout.addWidget(self.heading)
        right_layout.addWidget(self.changed_bar)
        self.references = ReferenceBox(self.context, self)
        fields, inner = QWidget(right), QVBoxLayout()  # these scroll; the buttons stay in sight
        for widget in (self.form, self.references, self.message):
            inner.addWidget(widget)
        inner.addStretch(1)
        scroll_page(fields, inner)
        right_layout.addWidget(fields, 1)
        right_layout.addLayout(self._build_buttons())
        return right

    def _build_buttons(self) -> QHBoxLayout:
        self.save_button = QPushButton("Save", self)
        self.delete_button = QPushButton("Move to trash", self)
        self.portrait_button = QPushButton("Choose portrait…", self)
        self.save_button.setDefault(True)
        self.save_button.clicked.connect(self._on_save_clicked)
        self.delete_button.clicked.connect(self._on_delete_clicked)
        self.portrait_button.clicked.connect(self._on_portrait_clicked)
        buttons = QHBoxLayout()
        buttons.addWidget(self.portrait_button)
        buttons.addStretch(1)
        buttons.addWidget(self.delete_button)
        buttons.addWidget(self.save_button)
        return buttons

    # Loading ---------------------------------------------------------------------------------

    def reload(self, select: uuid.UUID | None = None) -> None:
        """Reads the list; ``select`` is shown once a read has it (a reload meanwhile keeps it)."""
        self._select_after_load = select or self._select_after_load
        studio, workspace_id = self.context.studio, self.context.workspace_id
        run_in_background(lambda: load_rows(studio, workspace_id), receiver=self,
                          on_done=self._on_rows_loaded)

    def _on_rows_loaded(self, rows: list[InfluencerRow]) -> None:
        wanted = self._select_after_load or (self.current.id if self.current else None)
        restore = self._restoring and self.current is None and self.form.empty()
        self._restoring = False
        self.model.set_rows(rows)
        wanted = wanted or (self._remembered_id() if restore else None)
        position = self.model.row_of(wanted) if wanted else -1
        if restore and position < 0 and rows:
            position = 0  # the one last shown is gone (trashed, another workspace): the first
        row = self.model.at(position)
        if row is not None:
            self._select_after_load = None
            self._select_quietly(position)
            if self.current is None or row.id != self.current.id:
                self._show(row)
            elif row.version != self.current.version:
                self._on_newer_version(row)
        elif self.current is not None and self.model.row_of(self.current.id) < 0:
            self.show_message(f"“{self.current.name}” was moved to the trash elsewhere.", error=True)
        self.influencers_changed.emit()

    def _on_live_changed(self, changes: ChangeSet) -> None:
        if changes.touches(Entity.INFLUENCER, Entity.ASSET, workspace_id=self.context.workspace_id):
            self.reload()

    def _on_job_finished(self, job: JobSnapshot) -> None:
        """A portrait's thumbnails are files, not rows: their job ending is the news."""
        if job.type == THUMBNAILS_JOB and self.model.waiting_for_thumbnails():
            self.reload()

    def _on_workspace_changed(self) -> None:
        self.new_influencer()
        self._restoring = True
        self.reload()

    def _memory_key(self) -> str:
        return f"influencers/last/{self.context.workspace_id}"

    def _remembered_id(self) -> uuid.UUID | None:
        try:
            return uuid.UUID(str(self.context.recall(self._memory_key(), "")))
        except ValueError:
            return None

    # Changed elsewhere -----------------------------------------------------------------------

    def has_edits(self) -> bool:
        return self.current is not None and self.form.persona() != self.current.persona

    def _on_newer_version(self, row: InfluencerRow) -> None:
        if self.current is not None and row.persona == self.current.persona:
            self.current = row  # only the portrait changed: the form, typed edits and all, stays
            return
        self._on_changed_elsewhere(row)

    def _on_changed_elsewhere(self, row: InfluencerRow) -> None:
        if not self.has_edits():
            self._show(row)  # nothing typed here is lost
            self.show_message("Updated with the version saved elsewhere.")
            return
        self._newer = row
        self.changed_bar.warn(f"“{row.name}”")

    def _on_reload_requested(self) -> None:
        newer, self._newer = self._newer, None
        if newer is not None:
            self._show(newer)

    def _on_keep_requested(self) -> None:
        """The next save replaces the newer version, knowingly: it is based on that one now."""
        newer, self._newer = self._newer, None
        if newer is not None:
            self.current = newer
            self.show_message("Your edits are kept; Save replaces the version saved elsewhere.")

    # Editing ---------------------------------------------------------------------------------

    def new_influencer(self) -> None:
        self.current = None
        self._newer = None
        self._select_after_load = None
        self.changed_bar.hide()
        self.list.clearSelection()
        self.form.show_persona(Persona(name=""))
        self.heading.setText("<b>New influencer</b>")
        self.delete_button.setEnabled(False)
        self.portrait_button.setEnabled(False)
        self.references.show_influencer(None)
        self.show_message("")
        self.form.name.setFocus()

    def _on_new_clicked(self) -> None:
        if self.confirm_leave():
            self.new_influencer()

    def _on_current_changed(self) -> None:
        row = self.model.at(self.list.currentIndex().row())
        if self._quiet or row is None or (self.current is not None and row.id == self.current.id):
            return
        if not self.confirm_leave():
            self._put_selection_back()
            return
        self._show(row)
        self._select_after_load = row.id  # a save just made reloads onto the one chosen

    def _put_selection_back(self) -> None:
        self._select_quietly(self.model.row_of(self.current.id) if self.current else -1)

    def _select_quietly(self, position: int) -> None:
        self._quiet = True
        self.list.setCurrentIndex(self.model.index(position))
        if position < 0:
            self.list.clearSelection()
        self._quiet = False

    def _show(self, row: InfluencerRow) -> None:
        self.current = row
        self._newer = None
        self.changed_bar.hide()
        self.form.show_persona(row.persona)
        self.heading.setText(f"<b>{row.name}</b>")
        self.context.remember(self._memory_key(), str(row.id))
        self.delete_button.setEnabled(True)
        self.portrait_button.setEnabled(True)
        self.references.show_influencer(row.id)
        self.show_message("")

    def show_message(self, text: str, *, error: bool = False) -> None:
        self.message.setText(text)
        self.message.setStyleSheet("color: #d64545;" if error else "")

    # Unsaved edits ----------------------------------------------------------------------------

    def has_unsaved_changes(self) -> bool:
        if self.current is None:
            return not self.form.empty()
        return self.form.persona() != self.current.persona

    def confirm_leave(self) -> bool:
        """Asks Save / Discard / Cancel when edits are not saved; True when the editor may be
        left. The main window calls this before it shows another page or closes."""
        if not self.has_unsaved_changes():
            return True
        name = self.form.name.text().strip() or "the new influencer"
        buttons = QMessageBox.StandardButton
        answer = QMessageBox.question(
            self, "Unsaved persona", f"The changes to “{name}” are not saved. Save them?",
            buttons.Save | buttons.Discard | buttons.Cancel, buttons.Save)
        if answer == buttons.Save:
            return self._save_and_wait()  # a refused save keeps the user here, its reason in red
        if answer == buttons.Discard:
            self.form.show_persona(self.current.persona if self.current else Persona(name=""))
            return True
        return False

    def _save_and_wait(self) -> bool:
        """The save runs in the background; the window keeps painting while it is awaited."""
        outcome: list[bool] = []
        loop = QEventLoop(self)

        def finished(ok: bool) -> None:
            outcome.append(ok)
            loop.quit()
        self._start_save(finished)
        if not outcome:
            loop.exec()
        return outcome == [True]

    # Saving ------------------------------------------------------------------------------------

    def _on_save_clicked(self) -> None:
        self._start_save(lambda ok: None)

    def _start_save(self, finished: Callable[[bool], None]) -> None:
        persona = self.form.persona()
        studio, workspace_id, current = self.context.studio, self.context.workspace_id, self.current
        if current is None:
            def save() -> InfluencerRow:
                return saved_row(create_influencer(studio, workspace_id, persona), None)
        else:
            def save() -> InfluencerRow:
                return saved_row(update_influencer(studio, workspace_id, current.id, persona,
                                                   expected_version=current.version), current)
        self.save_button.setEnabled(False)

        def done(row: InfluencerRow) -> None:
            self._on_saved(row, persona)
            finished(True)

        def failed(exc: BaseException) -> None:
            self._on_save_failed(exc)
            finished(False)
        run_in_background(save, receiver=self, on_done=done, on_error=failed)

    def _on_saved(self, row: InfluencerRow, submitted: Persona) -> None:
        """The form shows what was stored, unless typing went on meanwhile; the list catches up."""
        self.save_button.setEnabled(True)
        self.current = row
        if self.form.persona() == submitted:
            self.form.show_persona(row.persona)
        self.heading.setText(f"<b>{row.name}</b>")
        self.context.remember(self._memory_key(), str(row.id))
        self.delete_button.setEnabled(True)
        self.portrait_button.setEnabled(True)
        self.references.show_influencer(row.id)
        self.show_message("Saved.")
        self.reload(select=row.id)

    def _on_save_failed(self, exc: BaseException) -> None:
        self.save_button.setEnabled(True)
        if isinstance(exc, StudioError):
            self.show_message(one_line(exc), error=True)  # the form keeps everything that was typed
        else:
            show_error(self, exc)

    def _on_delete_clicked(self) -> None:
        current = self.current
        if current is None:
            return
        answer = QMessageBox.question(
            self, "Move to trash", f"Move “{current.name}” to the trash? It can be restored from "
            "the trash later.", QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No)
        if answer != QMessageBox.StandardButton.Yes:
            return
        studio, workspace_id = self.context.studio, self.context.workspace_id
        run_in_background(lambda: trash_influencer(studio, workspace_id, current.id),
                          receiver=self, on_done=self._on_trashed)

    def _on_trashed(self, _: object) -> None:
        self.new_influencer()
        self.show_message("Moved to the trash.")
        self.reload()

    def _on_portrait_clicked(self) -> None:
        current = self.current
        if current is None:
            return
        patterns = " ".join(f"*{suffix}" for suffix in sorted(AVATAR_TYPES))
        chosen, _ = QFileDialog.getOpenFileName(self, "Choose portrait", "",
                                                f"Pictures ({patterns})")
        if not chosen:
            return
        studio, workspace_id = self.context.studio, self.context.workspace_id
        run_in_background(lambda: set_avatar(studio, workspace_id, current.id, Path(chosen)),
                          receiver=self, on_done=lambda _: self._on_avatar_set(current.id),
                          on_error=self._on_save_failed)

    def _on_avatar_set(self, influencer_id: uuid.UUID) -> None:
        """Only the portrait was saved: the form keeps whatever was typed, saved or not."""
        self.show_message("Portrait saved; its thumbnail appears once the worker has made it.")
        self.reload(select=influencer_id)
