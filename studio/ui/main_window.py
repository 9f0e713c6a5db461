"""The main window: a sidebar of pages, the workspace switcher, and service health below."""
from __future__ import annotations

import uuid
from pathlib import Path

from PySide6.QtCore import QSettings, QSize, Qt, Signal
from PySide6.QtGui import QAction, QCloseEvent, QDragEnterEvent, QDropEvent, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QStackedWidget,
    QToolBar,
    QWidget,
)

from studio.engine.db.changes import ChangeSet, Entity
from studio.engine.db.models import Workspace
from studio.engine.first_run import FirstRunResult
from studio.ui.context import StudioContext, WorkspaceRef
from studio.ui.health import HealthMonitor
from studio.ui.icons import icon
from studio.ui.pages.datasets import DatasetsPage
from studio.ui.pages.generate import GeneratePage
from studio.ui.pages.influencers import InfluencersPage
from studio.ui.pages.queue import QueuePage
from studio.ui.pages.settings import SettingsPage
from studio.ui.pages.video import VideoPage
from studio.ui.shortcuts import bind_pages
from studio.ui.status_bar import HealthStrip
from studio.ui.tasks import run_in_background
from studio.ui.theme import apply_theme
from studio.ui.thumbnails import use_team_assets
from studio.ui.widgets.about_dialog import AboutDialog
from studio.ui.widgets.budget_indicator import BudgetIndicator
from studio.ui.widgets.first_run import FirstRunGuide
from studio.ui.widgets.shortcuts_dialog import ShortcutsDialog
from studio.ui.widgets.system_check import SystemCheckDialog
from studio.ui.widgets.thumbnail_grid import dropped_paths

PAGES = (("influencers", "Influencers"), ("datasets", "Datasets"), ("training", "Training"),
         ("generate", "Generate"), ("video", "Video"), ("queue", "Queue"), ("plans", "Plans"),
         ("settings", "Settings"))
STATE_FILE = "ui-state.ini"


class MainWindow(QMainWindow):
    close_requested = Signal()
    page_changed = Signal(str)

    def __init__(self, context: StudioContext, monitor: HealthMonitor | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.intercept_close = False  # set by the session, which decides what quitting means
        self.state = QSettings(str(context.studio.paths.config_dir / STATE_FILE),
                               QSettings.Format.IniFormat)
        self.setWindowTitle("InfluencerAI Studio")
        self.setWindowIcon(icon("app", size=64))
        self.pages: dict[str, QWidget] = {}
        use_team_assets(context.studio)  # team mode: missing asset files come from the server
        self._build_pages()
        self._build_toolbar()
        self._build_menus()
        self.page_shortcuts = bind_pages(self, self.sidebar.setCurrentRow)  # Ctrl+1 … Ctrl+8
        self.setAcceptDrops(True)  # pictures dropped anywhere go to the Datasets page
        self.health = HealthStrip(self)
        self.statusBar().addPermanentWidget(self.health)
        self.budget = BudgetIndicator(self.context, self)  # shown from 80 % of the LLM budget
        self.statusBar().addPermanentWidget(self.budget)
        if monitor is not None:
            self._follow_health(monitor)
        self.context.workspace_changed.connect(self._on_workspace_changed)
        self.context.live.changed.connect(self._on_live_changed)
        self.restore_state()
        self.load_workspaces()

    # Pages -----------------------------------------------------------------------------------

    def _build_pages(self) -> None:
        self.sidebar = QListWidget(self)
        self.sidebar.setObjectName("sidebar")
        self.sidebar.setIconSize(QSize(22, 22))
        self.sidebar.setSpacing(2)
        self.sidebar.setFixedWidth(170)
        self.stack = QStackedWidget(self)
        for key, title in PAGES:
            page = self._make_page(key)
            page.setObjectName(f"page-{key}")
            self.pages[key] = page
            self.stack.addWidget(page)
            item = QListWidgetItem(icon(key), title)
            item.setData(Qt.ItemDataRole.UserRole, key)
            item.setSizeHint(QSize(150, 38))
            self.sidebar.addItem(item)
        self.sidebar.currentRowChanged.connect(self._on_sidebar_row_changed)
        central = QWidget(self)
        row = QHBoxLayout(central)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(0)
        row.addWidget(self.sidebar)
        row.addWidget(self.stack, 1)
        self.setCentralWidget(central)
        settings_page = self.pages["settings"]
        assert isinstance(settings_page, SettingsPage)
        settings_page.settings_saved.connect(self._on_settings_saved)
        self.pages["training"].use_in_generate.connect(self.use_in_generate)  # type: ignore[attr-defined]

    def _make_page(self, key: str) -> QWidget:
        if key == "influencers":
            return InfluencersPage(self.context, self)
        if key == "datasets":
            return DatasetsPage(self.context, self)
        if key == "queue":
            return QueuePage(self.context, self)
        if key == "settings":
            return SettingsPage(self.context, self)
        if key == "generate":
            return GeneratePage(self.context, self)
        if key == "video":
            return VideoPage(self.context, self)
        if key == "training":
            from studio.ui.pages.training import TrainingPage
            return TrainingPage(self.context, self)
        if key == "plans":
            from studio.ui.pages.plans import PlansPage
            return PlansPage(self.context, self)
        raise ValueError(f"No page is made for the sidebar key {key!r}.")

    def show_page(self, key: str) -> None:
        self.sidebar.setCurrentRow([k for k, _ in PAGES].index(key))

    def use_in_generate(self, lora_id: uuid.UUID) -> None:
        """Generate with this LoRA: its influencer, a workflow of its family, the LoRA chosen."""
        from studio.ui.pages.generate_lora_use import use_lora
        page = self.pages["generate"]
        assert isinstance(page, GeneratePage)
        use_lora(page, lora_id)
        self.show_page("generate")

    def current_page_key(self) -> str:
        return PAGES[max(self.stack.currentIndex(), 0)][0]

    def _follow_health(self, monitor: HealthMonitor) -> None:
        monitor.health_changed.connect(self.health.show_all)
        queue = self.pages["queue"]
        assert isinstance(queue, QueuePage)
        monitor.health_changed.connect(queue.workers.on_health_changed)  # who is alive

    def _on_sidebar_row_changed(self, row: int) -> None:
        if row < 0:
            return
        if row != self.stack.currentIndex() and not page_lets_go(self.stack.currentWidget()):
            self.sidebar.blockSignals(True)  # back to the page that keeps its unsaved edits
            self.sidebar.setCurrentRow(self.stack.currentIndex())
            self.sidebar.blockSignals(False)
            return
        self.stack.setCurrentIndex(row)
        self.page_changed.emit(PAGES[row][0])

    # Workspaces ------------------------------------------------------------------------------

    def _build_toolbar(self) -> None:
        bar = QToolBar("Workspace", self)
        bar.setObjectName("workspace-bar")
        bar.setMovable(False)
        bar.addWidget(QLabel("  Workspace: ", bar))
        self.workspace_box = QComboBox(bar)
        self.workspace_box.setMinimumWidth(200)
        self.workspace_box.setToolTip("Each workspace keeps its own influencers, jobs and content.")
        self.workspace_box.activated.connect(self._on_workspace_activated)
        bar.addWidget(self.workspace_box)
        self.new_workspace_action = QAction("New workspace…", self)
        self.new_workspace_action.triggered.connect(self._on_new_workspace_triggered)
        bar.addAction(self.new_workspace_action)
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, bar)

    # Menus and drops -------------------------------------------------------------------------

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        file_menu.addAction(self.new_workspace_action)
        file_menu.addSeparator()
        quit_action = file_menu.addAction("Quit")
        quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.close)
        edit_menu = bar.addMenu("&Edit")
        # The menu mirrors the current page's own undo/redo actions, which carry the shortcuts.
        self.undo_menu_action = edit_menu.addAction("Undo")
        self.redo_menu_action = edit_menu.addAction("Redo")
        self.undo_menu_action.triggered.connect(lambda: self._trigger_page_action("undo_action"))
        self.redo_menu_action.triggered.connect(lambda: self._trigger_page_action("redo_action"))
        edit_menu.aboutToShow.connect(self._sync_edit_menu)
        self._sync_edit_menu()
        help_menu = bar.addMenu("&Help")
        self.getting_started_action = help_menu.addAction("Getting started…")
        self.getting_started_action.triggered.connect(self.show_first_run_guide)
        self.system_check_action = help_menu.addAction("System check…")
        self.system_check_action.triggered.connect(self.show_system_check)
        self.shortcuts_action = help_menu.addAction("Keyboard shortcuts…")
        self.shortcuts_action.triggered.connect(self.show_shortcuts)
        help_menu.addSeparator()
        help_menu.addAction("About InfluencerAI Studio").triggered.connect(self._on_about_triggered)

    def _page_action(self, name: str) -> QAction | None:
        action = getattr(self.stack.currentWidget(), name, None)
        return action if isinstance(action, QAction) else None

    def _trigger_page_action(self, name: str) -> None:
        action = self._page_action(name)
        if action is not None and action.isEnabled():
            action.trigger()

    def _sync_edit_menu(self) -> None:
        for mirror, name, plain in ((self.undo_menu_action, "undo_action", "Undo"),
                                    (self.redo_menu_action, "redo_action", "Redo")):
            action = self._page_action(name)
            shortcut = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText) if action else ""
            mirror.setText((action.text() if action else plain) + (f"\t{shortcut}" if shortcut else ""))
            mirror.setEnabled(bool(action and action.isEnabled()))

    def _on_about_triggered(self) -> None:
        self.about_dialog = AboutDialog(self.context.studio, self)
        self.about_dialog.open()

    def show_first_run_guide(self) -> None:
        self.first_run_guide = FirstRunGuide(self.context.studio, self.context.workspace.name, self)
        self.first_run_guide.completed.connect(self._on_first_run_completed)
        self.first_run_guide.open()

    def _on_first_run_completed(self, result: FirstRunResult) -> None:
        self.context.set_workspace(WorkspaceRef(result.workspace_id, result.workspace_name))
        self.load_workspaces()
        self.show_page("datasets" if result.sample_job_id else "influencers")
        if result.sample_job_id is not None:
            page = self.pages["datasets"]
            assert isinstance(page, DatasetsPage)
            page.follow_import(result.sample_job_id)  # its progress and report, as for a drop

    def show_shortcuts(self) -> None:
        self.shortcuts_dialog = ShortcutsDialog(parent=self)
        self.shortcuts_dialog.open()

    def show_system_check(self) -> None:
        self.system_check_dialog = SystemCheckDialog(self.context.studio, self)
        self.system_check_dialog.open()

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802
        if dropped_paths(event.mimeData()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802
        paths = dropped_paths(event.mimeData())
        if paths:
            event.acceptProposedAction()
            self.import_dropped(paths)

    def import_dropped(self, paths: list[Path]) -> None:
        self.show_page("datasets")
        page = self.pages["datasets"]
        assert isinstance(page, DatasetsPage)
        page.import_paths(paths)

    def load_workspaces(self) -> None:
        studio = self.context.studio
        run_in_background(studio.workspaces, receiver=self, on_done=self._on_workspaces_loaded)

    def _on_workspaces_loaded(self, workspaces: list[Workspace]) -> None:
        self.workspace_box.clear()
        for workspace in workspaces:
            self.workspace_box.addItem(workspace.name, WorkspaceRef.of(workspace))
        shown = next((i for i, w in enumerate(workspaces) if w.id == self.context.workspace_id), -1)
        self.workspace_box.setCurrentIndex(shown)

    def _on_live_changed(self, changes: ChangeSet) -> None:
        """A workspace made, renamed or removed here or elsewhere (CLI, another desk)."""
        if changes.touches(Entity.WORKSPACE):
            self.load_workspaces()

    def switch_workspace(self, name: str) -> None:
        studio = self.context.studio
        run_in_background(lambda: WorkspaceRef.of(studio.use_workspace(name)), receiver=self,
                          on_done=self.context.set_workspace)

    def _on_workspace_activated(self, index: int) -> None:
        name = self.workspace_box.itemText(index)
        if name and name != self.context.workspace.name:
            self.switch_workspace(name)

    def _on_new_workspace_triggered(self) -> None:
        name, ok = QInputDialog.getText(self, "New workspace", "Name of the new workspace:")
        if ok and name.strip():
            self.create_workspace(name)

    def create_workspace(self, name: str) -> None:
        studio = self.context.studio

        def create() -> WorkspaceRef:
            created = studio.workspace(name, create=True)
            return WorkspaceRef.of(studio.use_workspace(created.name))

        run_in_background(create, receiver=self, on_done=self._on_workspace_created)

    def _on_workspace_created(self, workspace: WorkspaceRef) -> None:
        self.context.set_workspace(workspace)
        self.load_workspaces()

    def _on_workspace_changed(self) -> None:
        self.load_workspaces()  # one opened from a server is new to the list
        self.workspace_box.setCurrentText(self.context.workspace.name)
        self.statusBar().showMessage(f"Workspace: {self.context.workspace.name}", 4000)

    # Theme, state, closing -------------------------------------------------------------------

    def _on_settings_saved(self, keys: list[str]) -> None:
        app = QApplication.instance()
        if "ui.theme" in keys and isinstance(app, QApplication):
            apply_theme(app, self.context.studio.settings.ui.theme)
            self.refresh_icons()

    def refresh_icons(self) -> None:
        for row, (key, _) in enumerate(PAGES):
            self.sidebar.item(row).setIcon(icon(key))

    def restore_state(self) -> None:
        geometry = self.state.value("window/geometry")
        if geometry is None or not self.restoreGeometry(geometry):
            self.resize(1180, 760)
        page = str(self.state.value("window/page", PAGES[0][0]))
        self.show_page(page if page in dict(PAGES) else PAGES[0][0])

    def save_state(self) -> None:
        self.state.setValue("window/geometry", self.saveGeometry())
        self.state.setValue("window/page", self.current_page_key())
        self.state.sync()

    def bring_to_front(self) -> None:
        if self.isMinimized():
            self.showNormal()
        self.show()
        self.raise_()
        self.activateWindow()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802
        if not all(page_lets_go(page) for page in self.pages.values()):
            event.ignore()  # a page's unsaved edits: the user chose to stay
            return
        if self.intercept_close:
            event.ignore()
            self.close_requested.emit()
            return
        self.save_state()
        event.accept()


def page_lets_go(page: QWidget | None) -> bool:
    """A page with unsaved edits asks Save / Discard / Cancel through its ``confirm_leave()``;
    False when the user stays."""
    confirm = getattr(page, "confirm_leave", None)
    return bool(confirm()) if callable(confirm) else True
