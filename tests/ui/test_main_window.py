"""The main window: eight pages and the sidebar, workspaces, saved state, health, theme; what
another process changes (a workspace, a sample import) reaches it without a click."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QInputDialog

from studio.engine.config import load_settings
from studio.engine.core import Studio
from studio.engine.first_run import FirstRunChoices, apply_first_run
from studio.engine.media.thumbnails import ThumbnailPayload
from studio.ui.context import StudioContext
from studio.ui.health import HealthMonitor
from studio.ui.main_window import PAGES, MainWindow
from studio.ui.pages.datasets import DatasetsPage
from studio.ui.pages.influencers import InfluencersPage
from studio.ui.pages.queue import QueuePage
from studio.ui.pages.settings import SettingsPage
from studio.ui.theme import apply_theme
from tests.conftest import run_cli


@pytest.fixture
def window(qtbot, context: StudioContext) -> Iterator[MainWindow]:
    win = MainWindow(context)
    qtbot.addWidget(win)
    win.show()
    yield win


def test_has_eight_pages_and_the_sidebar_switches_them(qtbot, window: MainWindow) -> None:
    titles = [window.sidebar.item(i).text() for i in range(window.sidebar.count())]
    assert titles == ["Influencers", "Datasets", "Training", "Generate", "Video", "Queue", "Plans",
                      "Settings"]
    assert window.stack.count() == 8
    assert isinstance(window.pages["influencers"], InfluencersPage)
    assert isinstance(window.pages["queue"], QueuePage)
    assert isinstance(window.pages["settings"], SettingsPage)
    for key, _ in PAGES:
        rect = window.sidebar.visualItemRect(window.sidebar.item([k for k, _ in PAGES].index(key)))
        qtbot.mouseClick(window.sidebar.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
        assert window.stack.currentWidget() is window.pages[key]
        assert window.current_page_key() == key


def test_plans_is_a_real_page(window: MainWindow) -> None:
    from studio.ui.pages.plans import PlansPage
    assert isinstance(window.pages["plans"], PlansPage)


def test_page_and_geometry_are_restored(qtbot, context: StudioContext, window: MainWindow) -> None:
    window.resize(760, 580)  # within the offscreen screen (800×600)
    window.show_page("queue")
    window.close()
    assert (context.studio.paths.config_dir / "ui-state.ini").is_file()
    again = MainWindow(context)
    qtbot.addWidget(again)
    assert again.current_page_key() == "queue"
    assert (again.width(), again.height()) == (760, 580)


def test_new_workspace_and_switching(qtbot, monkeypatch, studio: Studio, context: StudioContext,
                                     window: MainWindow) -> None:
    first = context.workspace
    job = studio.jobs.submit(first.id, "make-thumbnails", ThumbnailPayload(files=(Path("/nowhere.png"),)),
                             title="in first")
    queue = window.pages["queue"]
    assert isinstance(queue, QueuePage)
    qtbot.waitUntil(lambda: queue.model.job(job.id) is not None)

    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: ("Second studio", True))
    window.new_workspace_action.trigger()
    qtbot.waitUntil(lambda: context.workspace.name == "Second studio")
    qtbot.waitUntil(lambda: window.workspace_box.count() == 2)
    assert window.workspace_box.currentText() == "Second studio"
    assert load_settings(studio.paths.settings_file).general.current_workspace == "Second studio"
    qtbot.waitUntil(lambda: queue.model.rowCount() == 0)  # the other workspace's jobs are gone

    window.workspace_box.activated.emit(window.workspace_box.findText(first.name))
    qtbot.waitUntil(lambda: context.workspace.id == first.id)
    qtbot.waitUntil(lambda: queue.model.job(job.id) is not None)
    assert studio.settings.general.current_workspace == first.name


def test_status_bar_shows_worker_and_database(qtbot, studio: Studio, context: StudioContext,
                                             worker_factory) -> None:
    monitor = HealthMonitor(studio)
    win = MainWindow(context, monitor)
    qtbot.addWidget(win)
    monitor.start()
    labels = win.health.labels
    qtbot.waitUntil(lambda: labels["database"].property("status") == "ok")
    assert labels["worker"].property("status") == "missing"
    assert "No worker is running" in labels["worker"].toolTip()
    assert "What to do:" in labels["worker"].toolTip()
    assert "sqlite" in labels["queue"].text()
    assert set(labels) == {"worker", "database", "queue", "comfyui", "ffmpeg", "sdscripts"}

    worker_factory()
    monitor.refresh()
    qtbot.waitUntil(lambda: labels["worker"].property("status") == "ok", timeout=10_000)
    assert "running" in labels["worker"].text()
    monitor.stop()


def test_theme_follows_the_setting(qtbot, studio: Studio, window: MainWindow) -> None:
    app = QApplication.instance()
    try:
        apply_theme(app, "dark")
        assert app.palette().window().color().lightness() < 80
        apply_theme(app, "light")
        assert app.palette().window().color().lightness() > 180
        settings_page = window.pages["settings"]
        assert isinstance(settings_page, SettingsPage)
        settings_page.fields["ui.theme"].setCurrentText("dark")
        settings_page.save_button.click()
        qtbot.waitUntil(lambda: app.palette().window().color().lightness() < 80)
        assert load_settings(studio.paths.settings_file).ui.theme == "dark"
    finally:
        apply_theme(app, "light")


def test_edit_menu_mirrors_the_current_pages_undo(qtbot, window: MainWindow) -> None:
    window.show_page("queue")
    window._sync_edit_menu()
    assert not window.undo_menu_action.isEnabled()  # the queue has nothing to undo
    window.show_page("datasets")
    page = window.pages["datasets"]
    page.undo_action.setText("Undo Edit caption")
    page.undo_action.setEnabled(True)
    fired: list[bool] = []
    page.undo_action.triggered.connect(lambda: fired.append(True))
    window._sync_edit_menu()
    assert window.undo_menu_action.isEnabled()
    assert window.undo_menu_action.text().startswith("Undo Edit caption")
    window.undo_menu_action.trigger()
    assert fired == [True]


def test_pictures_dropped_on_the_window_go_to_the_datasets_page(qtbot, monkeypatch, window: MainWindow,
                                                                tmp_path) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtCore import QMimeData, QPoint, QPointF, QUrl
    from PySide6.QtGui import QDropEvent
    picture = tmp_path / "face.png"
    picture.write_bytes(b"png")
    received: list[list] = []
    monkeypatch.setattr(window.pages["datasets"], "import_paths", received.append)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(picture))])
    event = QDropEvent(QPointF(QPoint(50, 50)), Qt.DropAction.CopyAction, mime,
                       Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    window.dropEvent(event)
    assert window.current_page_key() == "datasets"
    assert received == [[picture]]


def test_a_workspace_made_by_the_command_line_joins_the_switcher(qtbot, data_dir: Path,
                                                                 context: StudioContext,
                                                                 window: MainWindow) -> None:
    qtbot.waitUntil(lambda: window.workspace_box.count() == 1)
    done = run_cli(data_dir, "workspace", "create", "Night shift")
    assert done.returncode == 0, done.stderr
    qtbot.waitUntil(lambda: window.workspace_box.findText("Night shift") >= 0, timeout=3000)
    assert window.workspace_box.currentText() == context.workspace.name  # still the one shown


def test_the_guide_s_sample_import_is_followed_on_the_datasets_page(qtbot, studio: Studio,
                                                                    window: MainWindow) -> None:
    result = apply_first_run(studio, FirstRunChoices(workspace="Lisbon", influencer="Mira",
                                                     trigger_word="mira_v1", sample_dataset=True))
    window.show_first_run_guide()
    window.first_run_guide.completed.emit(result)  # what the guide says once it has applied them
    page = window.pages["datasets"]
    assert isinstance(page, DatasetsPage)
    assert window.current_page_key() == "datasets"
    assert page.import_panel.isVisible() and page.import_panel.title.text().startswith("Importing")
    assert page.jobs.followed is not None and page.jobs.followed.job_id == result.sample_job_id
    qtbot.waitUntil(lambda: page.dataset is not None and page.dataset.name == "Sample", timeout=5000)
