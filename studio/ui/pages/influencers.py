"""Influencers: the list on the left, the persona editor on the right.

The list follows every change to influencers (this process's or another's) and reloads when a
portrait's thumbnails are made. An influencer changed elsewhere while its editor is open is
never overwritten silently: with no edits the editor shows the newer version; with edits a
warning bar asks whether to reload or keep them, and a save always names the version it was
based on, so the engine refuses a stale one.
"""
from __future__ import annotations

import re
import uuid
from pathlib import Path

from PySide6.QtCore import QSize, Signal
from PySide6.QtWidgets import (
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QMessageBox,
    QPlainTextEdit,
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
from studio.ui.errors import show_error
from studio.ui.models.influencers import InfluencerListModel, InfluencerRow, load_rows
from studio.ui.tasks import run_in_background
from studio.ui.widgets.changed_bar import ChangedElsewhereBar

THUMBNAILS_JOB = "make-thumbnails"  # the worker writes a portrait's thumbnail files


def parse_topics(text: str) -> list[str]:
    """Comma-separated or one per line."""
    return [t.strip() for t in re.split(r"[,\n]", text) if t.strip()]


class PersonaForm(QWidget):
    """The editor's fields; knows nothing of the database."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.name = QLineEdit(self)
        self.trigger_word = QLineEdit(self)
        self.trigger_word.setPlaceholderText("one token, e.g. mira_v1")
        self.tone = QLineEdit(self)
        self.style_edit = QLineEdit(self)  # not `style`: QWidget.style() is Qt's
        self.voice = QLineEdit(self)
        self.topics = QPlainTextEdit(self)
        self.topics.setPlaceholderText("travel, street food, film photography (or one per line)")
        self.topics.setFixedHeight(70)
        self.language = QLineEdit(self)
        self.language.setPlaceholderText("en")
        self.notes = QPlainTextEdit(self)
        self.notes.setPlaceholderText("Anything the team should know about this character")
        self.notes.setMaximumHeight(150)
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        for label, widget in (("Name", self.name), ("Trigger word", self.trigger_word),
                              ("Tone", self.tone), ("Style", self.style_edit), ("Voice", self.voice),
                              ("Topics", self.topics), ("Language", self.language),
                              ("Notes", self.notes)):
            widget.setObjectName(label.lower().replace(" ", "_"))
            form.addRow(label, widget)

    def persona(self) -> Persona:
        return Persona(name=self.name.text(), trigger_word=self.trigger_word.text(),
                       tone=self.tone.text(), style=self.style_edit.text(), voice=self.voice.text(),
                       topics=parse_topics(self.topics.toPlainText()),
                       language=self.language.text(), notes=self.notes.toPlainText())

    def show_persona(self, persona: Persona) -> None:
        self.name.setText(persona.name)
        self.trigger_word.setText(persona.trigger_word)
        self.tone.setText(persona.tone)
        self.style_edit.setText(persona.style)
        self.voice.setText(persona.voice)
        self.topics.setPlainText("\n".join(persona.topics))
        self.language.setText(persona.language)
        self.notes.setPlainText(persona.notes)


class InfluencersPage(QWidget):
    influencers_changed = Signal()

    def __init__(self, context: StudioContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.model = InfluencerListModel(self)
        self.current: InfluencerRow | None = None  # None: a new, unsaved influencer
        self._newer: InfluencerRow | None = None  # saved elsewhere while the form has edits
        self._select_after_load: uuid.UUID | None = None
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
        self.new_button.clicked.connect(self.new_influencer)
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
        right_layout.addWidget(self.form)
        right_layout.addWidget(self.message)
        right_layout.addStretch(1)
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
        self.model.set_rows(rows)
        position = self.model.row_of(wanted) if wanted else -1
        if position >= 0:
            self._select_after_load = None
            self.list.setCurrentIndex(self.model.index(position))
            row = self.model.at(position)
            if row is not None and self.current is not None and row.version != self.current.version:
                self._on_changed_elsewhere(row)
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
        self.reload()

    # Changed elsewhere -----------------------------------------------------------------------

    def has_edits(self) -> bool:
        return self.current is not None and self.form.persona() != self.current.persona

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
        self.show_message("")
        self.form.name.setFocus()

    def _on_current_changed(self) -> None:
        row = self.model.at(self.list.currentIndex().row())
        if row is not None and (self.current is None or row.id != self.current.id):
            self._show(row)

    def _show(self, row: InfluencerRow) -> None:
        self.current = row
        self._newer = None
        self.changed_bar.hide()
        self.form.show_persona(row.persona)
        self.heading.setText(f"<b>{row.name}</b>")
        self.delete_button.setEnabled(True)
        self.portrait_button.setEnabled(True)
        self.show_message("")

    def show_message(self, text: str, *, error: bool = False) -> None:
        self.message.setText(text)
        self.message.setStyleSheet("color: #d64545;" if error else "")

    def _on_save_clicked(self) -> None:
        persona = self.form.persona()
        studio, workspace_id, current = self.context.studio, self.context.workspace_id, self.current
        if current is None:
            def save() -> uuid.UUID:
                return create_influencer(studio, workspace_id, persona).id
        else:
            def save() -> uuid.UUID:
                return update_influencer(studio, workspace_id, current.id, persona,
                                         expected_version=current.version).id
        self.save_button.setEnabled(False)
        run_in_background(save, receiver=self, on_done=self._on_saved, on_error=self._on_save_failed)

    def _on_saved(self, influencer_id: uuid.UUID) -> None:
        self.save_button.setEnabled(True)
        self.current = None  # the reload shows the saved row with its new version
        self.show_message("Saved.")
        self.reload(select=influencer_id)

    def _on_save_failed(self, exc: BaseException) -> None:
        self.save_button.setEnabled(True)
        if isinstance(exc, StudioError):
            self.show_message(str(exc), error=True)  # the form keeps everything that was typed
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
        self.show_message("Portrait saved; its thumbnail appears once the worker has made it.")
        self.current = None
        self.reload(select=influencer_id)
