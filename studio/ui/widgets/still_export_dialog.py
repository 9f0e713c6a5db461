"""Exports one picture for a platform: frame, crop or blurred fit, metadata, target folder."""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from studio.engine.media.presets import ExportPreset
from studio.engine.media.still import StillResult, export_still
from studio.ui.errors import one_line
from studio.ui.tasks import run_in_background
from studio.ui.theme_style import show_in_tone


class StillExportDialog(QDialog):
    exported = Signal(object)  # StillResult

    def __init__(self, source: Path, presets: Sequence[ExportPreset], folder: Path,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.source = source
        self.saved: StillResult | None = None
        self.setWindowTitle(f"Export {source.name}")
        self.setObjectName("still-export")
        form = self._build_form(presets, folder)
        self.status = QLabel(self)
        self.status.setWordWrap(True)
        self._build_buttons()
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.status)
        layout.addWidget(self.buttons)

    def _build_form(self, presets: Sequence[ExportPreset], folder: Path) -> QFormLayout:
        self.preset_box = QComboBox(self)
        for preset in presets:
            self.preset_box.addItem(f"{preset.title} · {preset.width}×{preset.height}", preset)
        feed = self.preset_box.findText("Instagram feed (4:5)", flags=Qt.MatchFlag.MatchStartsWith)
        self.preset_box.setCurrentIndex(max(feed, 0))
        self.fit_box = QComboBox(self)
        self.fit_box.addItem("Crop to fill", "crop")
        self.fit_box.addItem("Fit on a blurred copy", "blur")
        self.keep = QCheckBox("Keep metadata (camera, GPS, generation recipe)", self)
        self.keep.setToolTip("Off: the exported picture carries only its pixels and an sRGB profile")
        self.folder = QLineEdit(str(folder), self)
        browse = QPushButton("Choose…", self)
        browse.clicked.connect(self._browse)
        folder_row = QHBoxLayout()
        folder_row.addWidget(self.folder, 1)
        folder_row.addWidget(browse)
        form = QFormLayout()
        form.addRow("Platform", self.preset_box)
        form.addRow("Framing", self.fit_box)
        form.addRow("", self.keep)
        form.addRow("Folder", folder_row)
        return form

    def _build_buttons(self) -> None:
        self.show_button = QPushButton("Show in folder", self)
        self.show_button.setEnabled(False)
        self.show_button.clicked.connect(self._show_in_folder)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        self.export_button = self.buttons.addButton("Export", QDialogButtonBox.ButtonRole.AcceptRole)
        self.buttons.addButton(self.show_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.buttons.rejected.connect(self.reject)
        self.export_button.clicked.connect(self.export)

    def target(self) -> Path:
        preset: ExportPreset = self.preset_box.currentData()
        return Path(self.folder.text()).expanduser() / f"{self.source.stem}-{preset.slug}.jpg"

    def export(self) -> None:
        preset: ExportPreset = self.preset_box.currentData()
        source, target = self.source, self.target()
        fit, keep = self.fit_box.currentData(), self.keep.isChecked()
        self.export_button.setEnabled(False)
        show_in_tone(self.status, "")
        self.status.setText("Exporting…")
        run_in_background(lambda: export_still(source, preset, target, fit=fit, keep_metadata=keep),
                          receiver=self, lane="io", on_done=self._on_done, on_error=self._on_failed)

    def _on_done(self, result: StillResult) -> None:
        self.saved = result
        self.export_button.setEnabled(True)
        self.show_button.setEnabled(True)
        self.status.setText(f"Saved {result.path} ({result.width}×{result.height}).")
        self.exported.emit(result)

    def _on_failed(self, exc: BaseException) -> None:
        self.export_button.setEnabled(True)
        show_in_tone(self.status, "error")
        self.status.setText(one_line(exc))

    def _browse(self) -> None:
        chosen = QFileDialog.getExistingDirectory(self, "Export to", self.folder.text())
        if chosen:
            self.folder.setText(chosen)

    def _show_in_folder(self) -> None:
        if self.saved is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.saved.path.parent)))
