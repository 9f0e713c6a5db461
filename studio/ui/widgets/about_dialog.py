"""Help → About: the version, where data and logs live, and the licences of bundled parts."""
from __future__ import annotations

import sys

from PySide6 import __version__ as pyside_version
from PySide6.QtCore import QUrl, Signal, qVersion
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QPushButton, QVBoxLayout, QWidget

from studio import __version__
from studio.engine.core import Studio
from studio.engine.diagnostics import ffmpeg_licence
from studio.ui.tasks import run_in_background


class AboutDialog(QDialog):
    licence_shown = Signal()

    def __init__(self, studio: Studio, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.studio = studio
        self.setWindowTitle("About InfluencerAI Studio")
        self.setObjectName("about-dialog")
        self.resize(560, 360)
        paths = studio.paths
        self.body = QLabel(self)
        self.body.setObjectName("about-body")
        self.body.setWordWrap(True)
        self.body.setText(
            f"<h3>InfluencerAI Studio {__version__}</h3>"
            f"<p>Python {sys.version.split()[0]} · PySide6 {pyside_version} · Qt {qVersion()}</p>"
            f"<p>Data folder: {paths.data_dir}<br>Logs: {paths.logs_dir}</p>")
        self.licences = QLabel(self)
        self.licences.setObjectName("about-licences")
        self.licences.setWordWrap(True)
        self.ffmpeg_line = "Asking FFmpeg for its licence…"
        self._show_licences()
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        self.logs_button = QPushButton("Open log folder", self)
        buttons.addButton(self.logs_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.logs_button.clicked.connect(self.open_logs)
        layout = QVBoxLayout(self)
        layout.addWidget(self.body)
        layout.addWidget(self.licences)
        layout.addStretch(1)
        layout.addWidget(buttons)
        run_in_background(lambda: ffmpeg_licence(studio), receiver=self, lane="io",
                          on_done=self._on_ffmpeg_licence,
                          on_error=lambda exc: self._on_ffmpeg_licence(f"FFmpeg's licence: {exc}"))

    def _show_licences(self) -> None:
        self.licences.setText(
            "<p><b>Licences of the parts it uses</b><br>"
            "Qt and Qt for Python (PySide6) are used under the GNU LGPL v3; their source is at "
            "qt.io.<br>"
            f"{self.ffmpeg_line}<br>"
            "ComfyUI and kohya sd-scripts are separate programs the studio starts or connects "
            "to; they are not part of it.</p>")

    def _on_ffmpeg_licence(self, text: str) -> None:
        self.ffmpeg_line = text
        self._show_licences()
        self.licence_shown.emit()

    def open_logs(self) -> None:
        self.studio.paths.logs_dir.mkdir(parents=True, exist_ok=True)
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.studio.paths.logs_dir)))
