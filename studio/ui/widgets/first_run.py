"""The getting-started guide: three short steps instead of a wall of settings.

1. Name the workspace and the first influencer (and add a sample dataset to try curation).
2. Say where ComfyUI and sd-scripts are, or skip: what does not need them still works.
3. The data folder and what the system check found.

It opens on the first start of a new data folder and again from Help → Getting started.
"""
from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from studio.engine.core import Studio
from studio.engine.doctor import Check, run_checks
from studio.engine.first_run import FirstRunChoices, FirstRunResult, apply_first_run, skip_first_run
from studio.ui.errors import one_line
from studio.ui.status_bar import COLORS, WORDS
from studio.ui.tasks import run_in_background
from studio.ui.theme_style import show_in_tone

TITLES = ("Welcome", "Your tools", "Data and system check")


class FirstRunGuide(QDialog):
    completed = Signal(object)  # FirstRunResult
    skipped = Signal()
    checks_shown = Signal()

    def __init__(self, studio: Studio, workspace_name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.studio = studio
        self.setWindowTitle("Getting started")
        self.setObjectName("first-run")
        self.resize(640, 460)
        self.heading = QLabel(self)
        self.heading.setObjectName("first-run-heading")
        self.heading.setStyleSheet("font-size: 16pt; font-weight: 600;")
        self.steps = QStackedWidget(self)
        self.steps.addWidget(self._welcome_step(workspace_name))
        self.steps.addWidget(self._tools_step())
        self.steps.addWidget(self._check_step())
        self.error_line = QLabel(self)
        self.error_line.setObjectName("first-run-error")
        self.error_line.setWordWrap(True)
        show_in_tone(self.error_line, "error")
        self.skip_button = QPushButton("Skip the guide", self)
        self.back_button = QPushButton("Back", self)
        self.next_button = QPushButton("Next", self)
        self.next_button.setDefault(True)
        self.finish_button = QPushButton("Start working", self)
        buttons = QHBoxLayout()
        buttons.addWidget(self.skip_button)
        buttons.addStretch(1)
        for button in (self.back_button, self.next_button, self.finish_button):
            buttons.addWidget(button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.heading)
        layout.addWidget(self.steps, 1)
        layout.addWidget(self.error_line)
        layout.addLayout(buttons)
        self.skip_button.clicked.connect(self.skip)
        self.back_button.clicked.connect(lambda: self.go(self.steps.currentIndex() - 1))
        self.next_button.clicked.connect(lambda: self.go(self.steps.currentIndex() + 1))
        self.finish_button.clicked.connect(self.finish)
        self.go(0)

    # Steps -----------------------------------------------------------------------------------

    def _welcome_step(self, workspace_name: str) -> QWidget:
        step = QWidget(self)
        self.workspace = _field(step, "workspace", workspace_name)
        self.influencer = _field(step, "influencer", placeholder="e.g. Mira Sol")
        self.trigger = _field(step, "trigger", placeholder="one word the LoRA learns, e.g. mira_v1")
        self.sample = QCheckBox("Add a sample dataset to try curation right away", step)
        self.sample.setObjectName("first-run-sample")
        self.sample.setToolTip("Fifteen pictures the studio draws itself, with a near-duplicate, "
                               "a blurred and a dark one for the checks to find")
        self.influencer.textChanged.connect(self._on_influencer_changed)
        self._on_influencer_changed("")
        form = QFormLayout()
        form.addRow("Workspace", self.workspace)
        form.addRow("First influencer", self.influencer)
        form.addRow("Trigger word", self.trigger)
        form.addRow("", self.sample)
        return _page(step, "A workspace holds your influencers, their pictures, LoRAs and posts. "
                           "Name it, and the first influencer you will work on (you can add more "
                           "later, or none now).", form)

    def _tools_step(self) -> QWidget:
        step = QWidget(self)
        settings = self.studio.settings
        self.comfy_url = _field(step, "comfy-url", settings.comfyui.url)
        self.comfy_folder = _field(step, "comfy-folder", settings.comfyui.folder,
                                   "optional: the studio then starts and stops it")
        self.sd_folder = _field(step, "sdscripts", settings.sdscripts.folder,
                                "the folder that holds train_network.py")
        form = QFormLayout()
        form.addRow("ComfyUI address", self.comfy_url)
        form.addRow("ComfyUI folder", self._with_browse(self.comfy_folder, "ComfyUI folder"))
        form.addRow("sd-scripts folder", self._with_browse(self.sd_folder, "kohya sd-scripts folder"))
        return _page(step, "The studio generates pictures with ComfyUI and trains LoRAs with kohya "
                           "sd-scripts. Say where they are, or leave a field empty: everything that "
                           "does not need them still works, and Settings can change this later.",
                     form)

    def _check_step(self) -> QWidget:
        step = QWidget(self)
        paths = self.studio.paths
        own_profile = paths.config_dir == paths.data_dir  # chosen with --data-dir: fixed here
        self.data_dir = QLineEdit(str(paths.data_dir), step)
        self.data_dir.setObjectName("first-run-data-dir")
        self.data_dir.setEnabled(not own_profile)
        data_note = QLabel("This profile was opened with --data-dir, so its folder stays."
                           if own_profile else
                           "Pictures, models and the database live here. A new folder is used "
                           "from the next start.", step)
        data_note.setWordWrap(True)
        self.checks = QListWidget(step)
        self.checks.setObjectName("first-run-checks")
        form = QFormLayout()
        form.addRow("Data folder", self._with_browse(self.data_dir, "Data folder") if not own_profile
                    else self.data_dir)
        form.addRow("", data_note)
        layout = QVBoxLayout(step)
        layout.addLayout(form)
        layout.addWidget(QLabel("What the system check found (Help → System check shows more):", step))
        layout.addWidget(self.checks, 1)
        return step

    def _with_browse(self, line: QLineEdit, title: str) -> QWidget:
        row = QWidget(self)
        layout = QHBoxLayout(row)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(line, 1)
        browse = QPushButton("Choose…", row)
        browse.clicked.connect(lambda: self._browse(line, title))
        layout.addWidget(browse)
        return row

    def _browse(self, line: QLineEdit, title: str) -> None:
        chosen = QFileDialog.getExistingDirectory(self, title, line.text())
        if chosen:
            line.setText(chosen)

    def _on_influencer_changed(self, text: str) -> None:
        self.sample.setEnabled(bool(text.strip()))
        if not text.strip():
            self.sample.setChecked(False)

    # Moving through ----------------------------------------------------------------------------

    def go(self, index: int) -> None:
        index = max(0, min(index, self.steps.count() - 1))
        if index > self.steps.currentIndex() and self.steps.currentIndex() == 0 and not self._welcome_ok():
            return
        self.error_line.clear()
        self.steps.setCurrentIndex(index)
        self.heading.setText(f"{index + 1} of {self.steps.count()} · {TITLES[index]}")
        last = index == self.steps.count() - 1
        self.back_button.setEnabled(index > 0)
        self.next_button.setVisible(not last)
        self.finish_button.setVisible(last)
        if last:
            self._run_checks()

    def _welcome_ok(self) -> bool:
        if not self.workspace.text().strip():
            self.error_line.setText("Give the workspace a name.")
            return False
        if self.influencer.text().strip() and not self.trigger.text().strip():
            self.error_line.setText("Give the influencer a trigger word: one word the LoRA learns.")
            return False
        return True

    def _run_checks(self) -> None:
        self.checks.clear()
        self.checks.addItem("Checking…")
        studio = self.studio
        run_in_background(lambda: run_checks(studio), receiver=self, lane="io",
                          on_done=self._show_checks,
                          on_error=lambda exc: self.error_line.setText(one_line(exc)))

    def _show_checks(self, checks: list[Check]) -> None:
        self.checks.clear()
        for check in checks:
            text = f"● {check.label}: {WORDS.get(check.status, check.status)} — {check.detail}"
            item = QListWidgetItem(text)
            item.setToolTip(check.fix or check.detail)
            item.setForeground(QColor(COLORS.get(check.status, "#8a8d91")))
            self.checks.addItem(item)
        self.checks_shown.emit()

    def choices(self) -> FirstRunChoices:
        settings = self.studio.settings
        data_dir = self.data_dir.text().strip()
        return FirstRunChoices(
            workspace=self.workspace.text().strip(), influencer=self.influencer.text().strip(),
            trigger_word=self.trigger.text().strip(),
            comfyui_url=self.comfy_url.text().strip() if self.comfy_url.text().strip() != settings.comfyui.url else "",
            comfyui_folder=self.comfy_folder.text().strip(),
            sdscripts_folder=self.sd_folder.text().strip(),
            data_dir=data_dir if data_dir != str(self.studio.paths.data_dir) else "",
            sample_dataset=self.sample.isChecked())

    def finish(self) -> None:
        if not self._welcome_ok():
            self.go(0)
            self._welcome_ok()  # the step changed: say it again where the fields are
            return
        choices, studio = self.choices(), self.studio
        self.finish_button.setEnabled(False)
        run_in_background(lambda: apply_first_run(studio, choices), receiver=self,
                          on_done=self._on_applied, on_error=self._on_failed)

    def _on_applied(self, result: FirstRunResult) -> None:
        self.completed.emit(result)
        self.accept()

    def _on_failed(self, exc: BaseException) -> None:
        self.finish_button.setEnabled(True)
        self.error_line.setText(one_line(exc))

    def skip(self) -> None:
        studio = self.studio
        run_in_background(lambda: skip_first_run(studio), receiver=self,
                          on_done=self._on_skipped, on_error=self._on_failed)

    def _on_skipped(self, _: object) -> None:
        self.skipped.emit()
        self.reject()


def _field(parent: QWidget, name: str, text: str = "", placeholder: str = "") -> QLineEdit:
    line = QLineEdit(text, parent)
    line.setObjectName(f"first-run-{name}")
    line.setPlaceholderText(placeholder)
    return line


def _page(step: QWidget, intro: str, form: QFormLayout) -> QWidget:
    """A step: a short explanation above its fields."""
    label = QLabel(intro, step)
    label.setWordWrap(True)
    layout = QVBoxLayout(step)
    layout.addWidget(label)
    layout.addLayout(form)
    layout.addStretch(1)
    return step
