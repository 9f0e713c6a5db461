"""Settings and secrets. Secrets are written, never shown back: the page only says whether one is set."""
from __future__ import annotations

import copy
import os

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from studio.engine.config import ALLOWED, Settings
from studio.engine.errors import SettingsError
from studio.engine.secrets import KNOWN_SECRETS, env_name, one_line, value_problem
from studio.ui.context import StudioContext
from studio.ui.tasks import run_in_background

ERROR_STYLE = "color: #d64545;"
READ_ONLY = {"general.current_workspace": "Chosen with the workspace switcher at the top."}
HINTS = {
    "general.data_dir": "Takes effect after a restart.",
    "database.url": "Empty: the SQLite file in the data folder. Takes effect after a restart.",
    "queue.backend": "sqlite needs no server; redis is for team mode. Restart to apply.",
    "comfyui.url": "Where ComfyUI listens, e.g. http://127.0.0.1:8188",
    "ffmpeg.path": "Empty: FFmpeg on the PATH, else the bundled one.",
    "sdscripts.folder": "The folder of your kohya sd-scripts checkout.",
}
SECRET_HINTS = {"openrouter": "OpenRouter API key (content plans, captions)",
                "server.postgres": "Team server: PostgreSQL password",
                "server.redis": "Team server: Redis password",
                "server.s3": "Team server: S3 / MinIO secret key"}


def apply_changes(settings: Settings, changes: dict[str, str]) -> dict[str, str]:
    """Checks every change on a copy; applies them all only when none is refused. Returns errors."""
    trial = copy.deepcopy(settings)
    errors: dict[str, str] = {}
    for key, raw in changes.items():
        before = trial.get(key)
        try:
            trial.set(key, raw)
        except SettingsError as exc:
            errors[key] = str(exc)
            section, name = key.split(".")
            setattr(getattr(trial, section), name, before)  # keep the copy valid for the next key
    if not errors:
        for key in changes:
            settings.set(key, trial.get(key))
    return errors


class SettingsPage(QWidget):
    settings_saved = Signal(list)  # the keys that changed

    def __init__(self, context: StudioContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.fields: dict[str, QLineEdit | QComboBox] = {}
        self.errors: dict[str, QLabel] = {}
        self.secret_states: dict[str, QLabel] = {}
        self.secret_buttons: dict[str, tuple[QPushButton, QPushButton]] = {}
        self._build()
        self.load()
        context.workspace_changed.connect(self._on_workspace_changed)

    # Layout ------------------------------------------------------------------------------------

    def _build(self) -> None:
        body = QWidget(self)
        column = QVBoxLayout(body)
        column.addWidget(self._secrets_box(body))
        sections: dict[str, QFormLayout] = {}
        keys = self.context.studio.settings.keys()  # Settings is not a mapping; keys() lists 'section.name'
        for key in keys:
            section, name = key.split(".")
            if section not in sections:
                box = QGroupBox(section.capitalize() if section != "sdscripts" else "sd-scripts", body)
                sections[section] = QFormLayout(box)
                column.addWidget(box)
            sections[section].addRow(name.replace("_", " "), self._field_for(key, body))
        column.addStretch(1)
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setWidget(body)

        self.status = QLabel(self)
        self.save_button = QPushButton("Save settings", self)
        self.revert_button = QPushButton("Revert", self)
        self.save_button.clicked.connect(self._on_save_clicked)
        self.revert_button.clicked.connect(self.load)
        self.server_button = QPushButton("Team server…", self)
        self.server_button.clicked.connect(self._on_server_clicked)
        bar = QHBoxLayout()
        bar.addWidget(self.status, 1)
        bar.addWidget(self.server_button)
        bar.addWidget(self.revert_button)
        bar.addWidget(self.save_button)
        title = QLabel(f"<h2>Settings</h2>Stored in {self.context.studio.paths.settings_file}", self)
        title.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(title)
        layout.addWidget(scroll, 1)
        layout.addLayout(bar)

    def _on_server_clicked(self) -> None:
        from studio.ui.widgets.server_dialog import ServerDialog
        ServerDialog(self.context, self).exec()
        self.load()

    def _field_for(self, key: str, parent: QWidget) -> QWidget:
        if key in ALLOWED:
            combo = QComboBox(parent)
            combo.addItems(list(ALLOWED[key]))
            field: QLineEdit | QComboBox = combo
        else:
            field = QLineEdit(parent)
            field.setReadOnly(key in READ_ONLY)
        field.setObjectName(key)
        field.setToolTip(READ_ONLY.get(key) or HINTS.get(key, ""))
        error = QLabel(parent)
        error.setStyleSheet(ERROR_STYLE)
        error.setWordWrap(True)
        error.hide()
        self.fields[key], self.errors[key] = field, error
        holder = QWidget(parent)
        stack = QVBoxLayout(holder)
        stack.setContentsMargins(0, 0, 0, 0)
        stack.setSpacing(2)
        stack.addWidget(field)
        stack.addWidget(error)
        return holder

    def _secrets_box(self, parent: QWidget) -> QGroupBox:
        box = QGroupBox("Secrets", parent)
        form = QFormLayout(box)
        info = self.context.studio.secrets.info()
        where = (f"Stored in the {info.description}." if info.kind == "keyring" else
                 f"Stored in a file, not the system keyring: {info.description}.")
        self.backend_label = QLabel(where, box)
        self.backend_label.setWordWrap(True)
        form.addRow(self.backend_label)
        for name in KNOWN_SECRETS:
            state = QLabel("…", box)
            set_button, remove_button = QPushButton("Set…", box), QPushButton("Remove", box)
            set_button.clicked.connect(lambda _=False, n=name: self._on_set_secret_clicked(n))
            remove_button.clicked.connect(lambda _=False, n=name: self._on_remove_secret_clicked(n))
            row = QHBoxLayout()
            row.addWidget(state, 1)
            row.addWidget(set_button)
            row.addWidget(remove_button)
            label = QLabel(name, box)
            label.setToolTip(SECRET_HINTS.get(name, ""))
            state.setToolTip(SECRET_HINTS.get(name, ""))
            form.addRow(label, row)
            self.secret_states[name] = state
            self.secret_buttons[name] = (set_button, remove_button)
        return box

    # Settings ----------------------------------------------------------------------------------

    def load(self) -> None:
        settings = self.context.studio.settings
        for key, field in self.fields.items():
            value = str(settings.get(key))
            if isinstance(field, QComboBox):
                field.setCurrentText(value)
            else:
                field.setText(value)
            self.errors[key].hide()
        self.status.clear()
        self.refresh_secrets()

    def _on_workspace_changed(self) -> None:
        field = self.fields["general.current_workspace"]
        if isinstance(field, QLineEdit):
            field.setText(self.context.workspace.name)

    def changes(self) -> dict[str, str]:
        settings = self.context.studio.settings
        found: dict[str, str] = {}
        for key, field in self.fields.items():
            raw = field.currentText() if isinstance(field, QComboBox) else field.text()
            if key not in READ_ONLY and raw != str(settings.get(key)):
                found[key] = raw
        return found

    def _on_save_clicked(self) -> None:
        changes = self.changes()
        errors = apply_changes(self.context.studio.settings, changes)
        for key, label in self.errors.items():
            label.setText(errors.get(key, ""))
            label.setVisible(key in errors)
        if errors:
            self.status.setText("Nothing was saved: fix the values marked in red.")
            return
        if not changes:
            self.status.setText("No changes to save.")
            return
        studio = self.context.studio
        run_in_background(studio.save_settings, receiver=self,
                          on_done=lambda _: self._on_settings_written(list(changes)))

    def _on_settings_written(self, keys: list[str]) -> None:
        self.status.setText(f"Saved: {', '.join(keys)}.")
        self.settings_saved.emit(keys)

    # Secrets -----------------------------------------------------------------------------------

    def refresh_secrets(self) -> None:
        secrets = self.context.studio.secrets

        def states() -> dict[str, str]:
            found: dict[str, str] = {}
            for name in KNOWN_SECRETS:
                if os.environ.get(env_name(name), "").strip():  # an empty one is ignored
                    found[name] = f"set by the environment ({env_name(name)})"
                else:
                    found[name] = "set" if secrets.get(name) else "not set"
            return found  # only whether each is set; the values stay on that thread

        run_in_background(states, receiver=self, on_done=self._on_secret_states_loaded)

    def _on_secret_states_loaded(self, states: dict[str, str]) -> None:
        for name, text in states.items():
            self.secret_states[name].setText(text)
            self.secret_buttons[name][1].setEnabled(text == "set")

    def _on_set_secret_clicked(self, name: str) -> None:
        value, ok = QInputDialog.getText(self, "Set secret", f"New value for {name}:",
                                         QLineEdit.EchoMode.Password)
        if not ok or not value:
            return
        value = one_line(value)
        problem = value_problem(value)
        if problem:  # e.g. a pasted block of several lines: refused whole, never cut
            self.status.setText(f"'{name}' was not stored: a secret {problem}.")
            return
        secrets = self.context.studio.secrets
        run_in_background(lambda: secrets.set(name, value), receiver=self,
                          on_done=lambda _: self.refresh_secrets())

    def _on_remove_secret_clicked(self, name: str) -> None:
        secrets = self.context.studio.secrets
        run_in_background(lambda: secrets.delete(name), receiver=self,
                          on_done=lambda _: self.refresh_secrets())
