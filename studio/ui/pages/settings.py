"""Settings as a preferences page: groups listed on the left, one group's settings on the right.

Each value is checked as it is typed (the reason shows beside its field and Save waits); Save
applies every edit at once through the engine's settings and writes the file atomically off the
UI thread. Secrets are written to the keyring, never shown back and never put in the file.
"""
from __future__ import annotations

import copy

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QMessageBox,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from studio.engine.config import Settings
from studio.engine.db.changes import ChangeSet, Entity
from studio.engine.errors import SettingsError
from studio.engine.secret_names import PUBLISH_SECRETS
from studio.engine.secrets import KNOWN_SECRETS
from studio.ui.context import StudioContext
from studio.ui.pages.settings_fields import GROUPS, field_specs, relation_problems
from studio.ui.tasks import run_in_background
from studio.ui.theme_style import tone
from studio.ui.widgets.preference_field import Editor, PreferenceField
from studio.ui.widgets.preference_group import PreferenceGroup
from studio.ui.widgets.preference_secrets import SecretRows
from studio.ui.widgets.publish_accounts import PublishAccounts
from studio.ui.widgets.webhook_panel import WebhookPanel

INTROS = {
    "General": "Appearance, folders, and the daily posting run.",
    "ComfyUI": "Where pictures and videos are made.",
    "Training tools": "The trainer behind LoRA training.",
    "LLM": "The language model behind content plans, prompts and captions.",
    "Team server": "A shared server for several studios and GPU machines.",
    "Advanced": "Internals: how many jobs run at once and how workers check on each other.",
}
LIST_WIDTH = 180


def apply_changes(settings: Settings, changes: dict[str, object]) -> dict[str, str]:
    """Checks every change on a copy; applies them all only when none is refused. Returns errors."""
    trial = copy.deepcopy(settings)
    errors: dict[str, str] = {}
    for key, raw in changes.items():
        before = trial.get(key)
        try:
            trial.set(key, raw)
        except SettingsError as exc:
            errors[key] = str(exc)
            trial.set(key, before)  # keep the copy valid for the next key
    if not errors:
        for key in changes:
            settings.set(key, trial.get(key))
    return errors


class SettingsPage(QWidget):
    settings_saved = Signal(list)  # the keys that changed

    def __init__(self, context: StudioContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self._filling = False  # values being filled in from the saved settings
        self.rows: dict[str, PreferenceField] = {}
        self.fields: dict[str, Editor] = {}  # key -> its editor
        self.errors: dict[str, QLabel] = {}  # key -> the red line beside it
        self.browse_buttons: dict[str, QPushButton] = {}
        self.groups: dict[str, PreferenceGroup] = {}
        self.secret_rows: list[SecretRows] = []
        self._build()
        self.load()
        context.workspace_changed.connect(self._on_workspace_changed)
        context.live.changed.connect(self._on_live_changed)

    # Layout ------------------------------------------------------------------------------------

    def _build(self) -> None:
        self.group_list = QListWidget(self)
        self.group_list.setObjectName("preference-groups")
        self.group_list.setFixedWidth(LIST_WIDTH)
        self.group_stack = QStackedWidget(self)
        for title in GROUPS:
            self.groups[title] = PreferenceGroup(title, INTROS.get(title, ""), self.group_stack)
            self.group_stack.addWidget(self.groups[title])
            self.group_list.addItem(title)
            self.group_list.item(self.group_list.count() - 1).setSizeHint(QSize(160, 32))
        for spec in field_specs():
            self._add_field(PreferenceField(spec), self.groups[spec.group])
        self._add_extras()
        for group in self.groups.values():
            group.finish()
        self.group_list.currentRowChanged.connect(self.group_stack.setCurrentIndex)
        self.group_list.setCurrentRow(0)
        self.search = QLineEdit(self)
        self.search.setPlaceholderText("Find a setting")
        self.search.setClearButtonEnabled(True)
        self.search.setFixedWidth(LIST_WIDTH)
        self.search.textChanged.connect(self._on_search_changed)
        left = QVBoxLayout()
        left.addWidget(self.search)
        left.addWidget(self.group_list, 1)
        panes = QHBoxLayout()
        panes.addLayout(left)
        panes.addWidget(self.group_stack, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(panes, 1)
        layout.addLayout(self._button_bar())

    def _add_field(self, row: PreferenceField, group: PreferenceGroup) -> None:
        key = row.spec.key
        group.add_field(row)
        self.rows[key], self.fields[key], self.errors[key] = row, row.editor, row.error
        if row.browse_button is not None:
            self.browse_buttons[key] = row.browse_button
        row.edited.connect(self._on_field_edited)

    def _add_extras(self) -> None:
        """What is not a setting in the file: secrets, the server dialog, where the file is."""
        llm, team = self.groups["LLM"], self.groups["Team server"]
        self._add_secrets(llm, "API key", ("openrouter",))
        self._add_secrets(team, "Passwords and keys", tuple(n for n in KNOWN_SECRETS if n.startswith("server.")))
        self.server_button = QPushButton("Connect to a team server…")
        self.server_button.setToolTip("Checks the server and switches this studio to it.")
        self.server_button.clicked.connect(self._on_server_clicked)
        self.groups["Team server"].add_row("Connect", _left(self.server_button))
        self.groups["Automation"].add_row("Publishing accounts", PublishAccounts(self.context))
        self._add_secrets(self.groups["Automation"], "App secrets", PUBLISH_SECRETS)
        self.webhook_panel = WebhookPanel(self.context)
        self.groups["Automation"].add_row("Webhooks", self.webhook_panel)
        where = QLabel(f"Settings are stored in {self.context.studio.paths.settings_file}")
        where.setWordWrap(True)
        where.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.groups["Advanced"].add_row("Settings file", where)

    def _add_secrets(self, group: PreferenceGroup, section: str, names: tuple[str, ...]) -> None:
        rows = SecretRows(self.context, names, group)
        group.add_row(section, rows.backend_label)
        for name, row in rows.rows.items():
            group.add_row(section, row, rows.label(name))
        rows.message_changed.connect(self._show_status)
        self.secret_rows.append(rows)

    def _button_bar(self) -> QHBoxLayout:
        self.status = QLabel(self)
        self.status.setWordWrap(True)
        self.defaults_button = QPushButton("Restore defaults", self)
        self.defaults_button.setToolTip("Puts this group's settings back to their defaults (Save to keep).")
        self.defaults_button.clicked.connect(self._on_defaults_clicked)
        self.revert_button = QPushButton("Revert", self)
        self.revert_button.setToolTip("Drops the edits not saved yet.")
        self.revert_button.clicked.connect(self.load)
        self.save_button = QPushButton("Save", self)
        self.save_button.setDefault(True)
        self.save_button.clicked.connect(self._on_save_clicked)
        self.save_button.setToolTip("Save (Ctrl+S)")
        self.save_shortcut = QShortcut(QKeySequence.StandardKey.Save, self)
        self.save_shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.save_shortcut.activated.connect(self._on_save_shortcut_activated)
        bar = QHBoxLayout()
        bar.addWidget(self.status, 1)
        bar.addWidget(self.defaults_button)
        bar.addWidget(self.revert_button)
        bar.addWidget(self.save_button)
        return bar

    def show_group(self, title: str) -> None:
        self.group_list.setCurrentRow(GROUPS.index(title))

    def _on_search_changed(self, text: str) -> None:
        """Only the settings whose words hold what is typed, and the groups that have some."""
        words = text.lower().split()
        counts = {title: group.filter(words) for title, group in self.groups.items()}
        for row, title in enumerate(GROUPS):
            self.group_list.item(row).setHidden(counts[title] == 0)
        found = [title for title in GROUPS if counts[title]]
        if found and not counts[GROUPS[self.group_stack.currentIndex()]]:
            self.show_group(found[0])
        if not found:
            self._show_status(f"No setting matches '{text.strip()}'.")
        elif self.status.text().startswith("No setting matches"):
            self.status.clear()

    def _on_server_clicked(self) -> None:
        from studio.ui.widgets.server_dialog import ServerDialog
        ServerDialog(self.context, self).exec()
        self._reload_unmodified()  # the dialog saves the server's settings itself

    # Values ------------------------------------------------------------------------------------

    def load(self) -> None:
        """Shows the saved settings; edits not saved are dropped."""
        self._fill_saved(keep_edits=False)
        self._on_workspace_changed()  # the one open, which a fresh profile has not saved yet
        self.status.clear()
        self._update_state()
        self.refresh_secrets()

    def _reload_unmodified(self) -> None:
        """Settings saved elsewhere (the CLI, the server dialog) show up; edits being made stay."""
        self._fill_saved(keep_edits=True)
        self._update_state()

    def _fill_saved(self, *, keep_edits: bool) -> None:
        """The saved values in the fields (not in those being edited, with ``keep_edits``). Each
        value set says it was edited: the caller checks the page's state once, after."""
        settings = self.context.studio.settings
        self._filling = True
        try:
            for key, row in self.rows.items():
                if not (keep_edits and row.is_modified()):
                    row.set_value(settings.get(key))
        finally:
            self._filling = False

    def changes(self) -> dict[str, object]:
        return {key: row.value() for key, row in self.rows.items()
                if not row.spec.read_only and row.is_modified()}

    def has_unsaved_changes(self) -> bool:
        return bool(self.changes())

    def problems(self) -> dict[str, str]:
        """Why edited values cannot be saved, by key: each value alone, then against each other."""
        changes = self.changes()
        found = {key: self.rows[key].problem() for key in changes}
        found = {key: text for key, text in found.items() if text}
        values = {key: row.value() for key, row in self.rows.items()}
        related = relation_problems(values) if changes else {}
        return {**related, **found}

    def _on_field_edited(self, _key: str) -> None:
        if not self._filling:
            self._update_state()

    def _update_state(self) -> None:
        problems, changes = self.problems(), self.changes()
        for key, field in self.rows.items():  # a relation can mark a field that was not edited
            field.show_problem(problems.get(key, ""))
        self.save_button.setEnabled(bool(changes) and not problems)
        self.revert_button.setEnabled(bool(changes))
        for row, title in enumerate(GROUPS):
            keys = [field.spec.key for field in self.groups[title].fields]
            self._mark_group(row, any(k in changes for k in keys), any(k in problems for k in keys))
        if problems:
            self._show_status(f"Fix the value{'s' if len(problems) > 1 else ''} marked in red to save.")
        elif self.status.text().startswith("Fix the value"):
            self.status.clear()

    def _mark_group(self, row: int, edited: bool, invalid: bool) -> None:
        """A group with unsaved edits reads bold; one with a refused value, red."""
        item = self.group_list.item(row)
        font = item.font()
        font.setBold(edited)
        item.setFont(font)
        item.setForeground(QBrush(QColor(tone("error", self.palette()))) if invalid else QBrush())

    def _on_defaults_clicked(self) -> None:
        defaults = Settings()
        for field in self.groups[GROUPS[self.group_stack.currentIndex()]].fields:
            if not field.spec.read_only:
                field.show_value(defaults.get(field.spec.key))
        self._update_state()

    # Saving ------------------------------------------------------------------------------------

    def _on_save_clicked(self) -> None:
        self.save()

    def _on_save_shortcut_activated(self) -> None:
        if self.save_button.isEnabled():
            self.save()

    def save(self) -> bool:
        """Applies every edit at once and writes the file off the UI thread. False, with the
        reasons beside their fields, when a value is refused: then nothing is applied."""
        changes = self.changes()
        problems = self.problems() or apply_changes(self.context.studio.settings, changes)
        for key, row in self.rows.items():
            row.show_problem(problems.get(key, ""))
        if problems:
            first = self.rows[next(iter(problems))]
            self.show_group(first.spec.group)  # where the first refused value is, to fix it
            first.editor.setFocus()
            self._update_state()
            return False
        if not changes:
            return True
        settings = self.context.studio.settings
        for key in changes:
            self.rows[key].set_value(settings.get(key))  # the saved state now
        self._update_state()
        self._show_status("Saving…")
        run_in_background(self.context.studio.save_settings, receiver=self,
                          on_done=lambda _: self._on_settings_written(list(changes)),
                          on_error=self._on_save_failed)
        return True

    def _on_settings_written(self, keys: list[str]) -> None:
        restart = [self.rows[k].spec.label for k in keys if self.rows[k].spec.restart]
        later = f" Restart the studio to apply: {', '.join(restart)}." if restart else ""
        self._show_status(f"Saved: {', '.join(self.rows[k].spec.label for k in keys)}.{later}")
        self.settings_saved.emit(keys)

    def _on_save_failed(self, exc: BaseException) -> None:
        self._show_status(f"The settings file could not be written: {exc}")

    def confirm_leave(self) -> bool:
        """Asks Save / Discard / Cancel when edits are not saved; True when the page may be left.
        The main window calls this before it shows another page or closes."""
        if not self.has_unsaved_changes():
            return True
        answer = QMessageBox.question(
            self, "Unsaved settings", "Some settings were changed but not saved. Save them?",
            QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard
            | QMessageBox.StandardButton.Cancel, QMessageBox.StandardButton.Save)
        if answer == QMessageBox.StandardButton.Save:
            return self.save()  # a refused value keeps the user here, its reason in red
        if answer == QMessageBox.StandardButton.Discard:
            self.load()
            return True
        return False

    def _show_status(self, text: str) -> None:
        self.status.setText(text)

    # Reacting to the rest of the studio --------------------------------------------------------

    def _on_workspace_changed(self) -> None:
        self.rows["general.current_workspace"].set_value(self.context.workspace.name)

    def _on_live_changed(self, changes: ChangeSet) -> None:
        if changes.touches(Entity.SETTINGS):
            self._reload_unmodified()

    # Secrets -----------------------------------------------------------------------------------

    @property
    def secret_states(self) -> dict[str, QLabel]:
        return {name: label for rows in self.secret_rows for name, label in rows.states.items()}

    @property
    def secret_buttons(self) -> dict[str, tuple[QPushButton, QPushButton]]:
        return {name: pair for rows in self.secret_rows for name, pair in rows.buttons.items()}

    @property
    def backend_label(self) -> QLabel:
        return self.secret_rows[0].backend_label

    def refresh_secrets(self) -> None:
        for rows in self.secret_rows:
            rows.refresh()


def _left(widget: QWidget) -> QWidget:
    """A button at its own width, on the left, instead of stretched across the form."""
    holder = QWidget()
    row = QHBoxLayout(holder)
    row.setContentsMargins(0, 0, 0, 0)
    row.addWidget(widget)
    row.addStretch(1)
    return holder
