"""The app's entry point: one window per data folder, its worker started and stopped with it."""
from __future__ import annotations

import os
import sys

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from studio.engine.core import Studio
from studio.engine.errors import StudioError
from studio.engine.logs import setup_logging
from studio.engine.worker.comfyui_owner import release_local_comfyui
from studio.ui import tasks, thumbnails
from studio.ui.collector import collect_on_ui_thread
from studio.ui.errors import install_excepthook
from studio.ui.icons import icon
from studio.ui.qt_types import make_widget_types
from studio.ui.session import StudioSession
from studio.ui.single_instance import SingleInstance
from studio.ui.startup_dialogs import offer_settings_reset, show_startup_failure
from studio.ui.theme import apply_theme

APP_NAME = "InfluencerAI Studio"
# For tests and screenshots: close the window this many ms after the worker is up.
QUIT_AFTER_ENV = "INFLUENCERAI_QUIT_AFTER_MS"
SWITCH_INTERVAL_S = 0.0005  # see ``application``


def application() -> QApplication:
    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(sys.argv[:1])
    app.setApplicationName(APP_NAME)
    app.setApplicationDisplayName(APP_NAME)
    app.setDesktopFileName("influencerai-studio")
    # The window hides before the worker has stopped; the session says when we are done.
    app.setQuitOnLastWindowClosed(False)
    collect_on_ui_thread(app)  # Qt objects in cyclic garbage are freed on their own thread
    # A thread computing in Python (reading a large dataset's rows, say) keeps the interpreter
    # lock for up to the switch interval each time the UI thread asks for it, and painting one
    # screen asks dozens of times (each delegate and model call): at Python's 5 ms, scrolling
    # 100,000 pictures stalled 150–180 ms while such a read ran; at 0.5 ms, 37 ms (bench/grid.py).
    sys.setswitchinterval(SWITCH_INTERVAL_S)
    make_widget_types()  # PySide's one-off cost, here rather than in the first page's build
    return app


def run_app(data_dir: str | None = None) -> int:
    application()  # the dialogs below need it
    try:
        studio = Studio.open(data_dir)
    except StudioError as exc:  # a read-only or full data folder: said in a dialog, not a traceback
        show_startup_failure(exc)
        return 1
    try:
        setup_logging(studio.paths.logs_dir, process="app")  # first: the database's upgrade is logged
        offer_settings_reset(studio)  # a damaged settings file: reset it (a copy is kept) or go on
        if not _database_opens(studio):
            return 1
        return _run(studio)
    finally:
        studio.close()


def _database_opens(studio: Studio) -> bool:
    """Opens (and upgrades) the database before the window, so that a damaged, emptied or newer
    one, or one the settings no longer locate, is said in a dialog instead of half a window."""
    try:
        studio.db  # noqa: B018 - the property opens it
    except StudioError as exc:
        show_startup_failure(exc)
        return False
    return True


def _run(studio: Studio) -> int:
    app = application()
    instance = SingleInstance(studio.paths.data_dir)
    if instance.notify_running():
        print(f"{APP_NAME} is already open for {studio.paths.data_dir}; brought it to the front.",
              flush=True)
        return 0
    instance.listen()
    install_excepthook()
    apply_theme(app, studio.settings.ui.theme)
    app.setWindowIcon(icon("app", size=64))
    session = StudioSession(studio)
    instance.activation_requested.connect(session.window.bring_to_front)
    session.finished.connect(app.quit)

    def _on_color_scheme_changed(_: object) -> None:
        apply_theme(app, studio.settings.ui.theme)
        session.window.refresh_icons()

    app.styleHints().colorSchemeChanged.connect(_on_color_scheme_changed)
    _quit_after_env(session)
    session.start()
    try:
        return app.exec()
    finally:
        instance.close()
        after_quit(studio)
        session.window.deleteLater()


def after_quit(studio: Studio) -> None:
    """What is left once the session finished: reads nobody will see (the live view's, status
    probes, thumbnails) are dropped; work already asked for (saves, exports, submits) finishes."""
    tasks.drop_queued("live", "probe")  # a probe still waiting for a silent server is abandoned
    thumbnails.drop_queued()
    tasks.wait_until_idle(15_000, with_probes=False)
    release_local_comfyui(studio.paths)  # normally the worker's; one the app took over is handed on


def _quit_after_env(session: StudioSession) -> None:
    raw = os.environ.get(QUIT_AFTER_ENV, "")
    if not raw.isdigit():
        return
    delay = int(raw)
    session.worker_settled.connect(lambda _: QTimer.singleShot(delay, session.window.close))
