"""Video: turn an image into a clip through ComfyUI, watch it, frame it for each platform, add
subtitles, and export it.

The page holds the current clip, the framing (crop or blur, focus point) and the subtitle lines;
the widgets show them. Every engine call (probe, frame decoding, submitting jobs; video_ops)
goes through ``run_in_background``; the video job and exports are followed through the app's
job hub. Space plays or pauses the clip wherever the focus is on the page (but in a text field).
"""
from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QImage
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSlider,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from studio.engine.media.presets import ExportPreset, load_presets, user_presets_dir
from studio.engine.media.probe import MediaInfo
from studio.engine.media.subtitles import read_srt, write_srt
from studio.ui.context import StudioContext
from studio.ui.errors import one_line
from studio.ui.pages import video_ops as ops
from studio.ui.shortcuts import bind
from studio.ui.tasks import run_in_background
from studio.ui.timers import single_shot_timer
from studio.ui.widgets.gallery_picker import GalleryPicker
from studio.ui.widgets.video_export_dialog import ExportDialog
from studio.ui.widgets.video_make import MakeVideoBox
from studio.ui.widgets.video_player import VideoPlayer
from studio.ui.widgets.video_presets import PresetPreviews
from studio.ui.widgets.video_subtitles import SubtitleEditor

FRAME_DELAY_MS = 120  # scrubbing asks for many frames; only the last one is decoded
LEFT_WIDTH = 380  # the make-video form and the clip box
CLIP_FILTER = "Clips and images (*.mp4 *.mov *.m4v *.webm *.mkv *.png *.jpg *.jpeg *.webp)"


class VideoPage(QWidget):
    clip_loaded = Signal(str)
    frame_shown = Signal()
    video_queued = Signal(object)  # uuid.UUID
    message_shown = Signal(str)

    def __init__(self, context: StudioContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.presets: list[ExportPreset] = list(
            load_presets(user_presets_dir(context.studio.paths.data_dir)).values())
        self.clip: Path | None = None
        self.info: MediaInfo | None = None
        self.fit = "crop"
        self.focus = (0.5, 0.5)
        self._frame_pending = False
        self.player = VideoPlayer(self)
        self.previews = PresetPreviews(self.presets, self)
        self.subtitles = SubtitleEditor(self)
        self.make_box = MakeVideoBox(context, self)
        self.make_box.clip_made.connect(self.open_clip)
        self.make_box.video_queued.connect(self.video_queued)
        # The form's parts by their names on the page, as tests and users see them.
        self.image_path, self.template = self.make_box.image_path, self.make_box.template
        self.make_button, self.make_status = self.make_box.make_button, self.make_box.make_status
        self.gallery_button = self.make_box.gallery_button
        self.clip_box = self._clip_box()
        # Debounces the preview frame while scrubbing: a single shot, not polling.
        self._frame_timer = single_shot_timer(self, interval_ms=FRAME_DELAY_MS)
        self._frame_timer.setObjectName("video-frame")
        self._frame_timer.timeout.connect(self._request_frame)
        self._layout()
        self._connect()
        # On the page, not the player: Space must play even when a button here has the focus.
        self.play_shortcut = bind(self, "video.play-pause", self.player.toggle_play)

    # Building ----------------------------------------------------------------------------------

    def _clip_box(self) -> QGroupBox:
        box = QGroupBox("Clip", self)
        self.clip_label = QLabel("Open a clip or an image, or make one above.", box)
        self.clip_label.setWordWrap(True)
        self.open_button = QPushButton("Open clip…", box)
        self.open_button.clicked.connect(self._on_open_clicked)
        self.export_button = QPushButton("Export…", box)
        self.export_button.setEnabled(False)
        self.export_button.clicked.connect(self.open_export_dialog)
        for button in (self.open_button, self.export_button):
            button.setFocusPolicy(Qt.FocusPolicy.TabFocus)  # a click leaves Space to the player
        row = QHBoxLayout()
        row.addWidget(self.open_button)
        row.addWidget(self.export_button)
        column = QVBoxLayout(box)
        column.addWidget(self.clip_label)
        column.addLayout(row)
        return box

    def _framing_bar(self) -> QWidget:
        bar = QWidget(self)
        self.fit_choice = QComboBox(bar)
        self.fit_choice.addItem("Crop to fill", "crop")
        self.fit_choice.addItem("Fit + blur", "blur")
        self.fit_choice.setToolTip("Fit whole over a blurred copy of itself")
        self.focus_x = _slider(bar)
        self.focus_y = _slider(bar)
        row = QHBoxLayout(bar)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.fit_choice)
        row.addWidget(QLabel("Focus x", bar))
        row.addWidget(self.focus_x)
        row.addWidget(QLabel("y", bar))
        row.addWidget(self.focus_y)
        row.addStretch(1)
        return bar

    def _layout(self) -> None:
        left = QWidget(self)
        column = QVBoxLayout(left)
        column.addWidget(self.make_box)
        column.addWidget(self.clip_box)
        column.addStretch(1)
        left_scroll = QScrollArea(self)  # the page fits a small window; the forms scroll
        left_scroll.setWidget(left)
        left_scroll.setWidgetResizable(True)
        left_scroll.setMaximumWidth(LEFT_WIDTH)
        left_scroll.setMinimumWidth(160)
        platforms = QWidget(self)
        platform_column = QVBoxLayout(platforms)
        platform_column.addWidget(self._framing_bar())
        scroll = QScrollArea(platforms)
        scroll.setWidget(self.previews)
        scroll.setWidgetResizable(True)
        scroll.setMinimumHeight(120)
        platform_column.addWidget(scroll, 1)
        self.tabs = QTabWidget(self)
        self.tabs.addTab(platforms, "Platforms")
        self.tabs.addTab(self.subtitles, "Subtitles")
        right = QSplitter(Qt.Orientation.Vertical, self)
        right.addWidget(self.player)
        right.addWidget(self.tabs)
        right.setSizes([520, 300])
        right.setStretchFactor(0, 1)
        outer = QSplitter(Qt.Orientation.Horizontal, self)
        outer.addWidget(left_scroll)
        outer.addWidget(right)
        outer.setStretchFactor(1, 1)
        outer.setSizes([LEFT_WIDTH, 900])  # the form at its full width; the player takes the rest
        layout = QVBoxLayout(self)
        layout.addWidget(outer)

    def _connect(self) -> None:
        self.player.position_changed.connect(self._on_position_changed)
        self.player.load_failed.connect(self.message_shown.emit)
        self.subtitles.cues_changed.connect(self._refresh_framing)
        self.subtitles.problem_found.connect(self.message_shown.emit)
        self.subtitles.import_requested.connect(self._on_import_srt)
        self.subtitles.save_requested.connect(self._on_save_srt)
        self.fit_choice.currentIndexChanged.connect(self._on_framing_changed)
        self.focus_x.valueChanged.connect(self._on_framing_changed)
        self.focus_y.valueChanged.connect(self._on_framing_changed)
        self.message_shown.connect(self._show_message)

    # The clip ----------------------------------------------------------------------------------

    def open_clip(self, path: Path) -> None:
        """Probes ``path`` in the background, then plays it and frames it for each platform."""
        run_in_background(lambda: ops.probe_clip(path), receiver=self, lane="io",
                          on_done=self._on_probed, on_error=self._on_error)

    def _on_probed(self, info: MediaInfo) -> None:
        self.clip, self.info = Path(info.path), info
        video = info.video
        fps = video.fps if video and video.fps else None
        self.subtitles.duration_s, self.subtitles.playhead_s = info.duration_s, 0.0
        size = f"{video.width}×{video.height}" if video else "no picture"
        length = "still image" if info.is_still else f"{info.duration_s:.1f} s, {fps or 0:g} fps"
        sound = "sound" if info.audio else "no sound"
        self.clip_label.setText(f"{self.clip.name}\n{size}, {length}, {sound}")
        self.export_button.setEnabled(video is not None)
        if not info.is_still:
            self.player.load(self.clip, fps=fps)
        self._request_frame()
        self.clip_loaded.emit(str(self.clip))

    def _on_position_changed(self, ms: int) -> None:
        self.subtitles.playhead_s = ms / 1000  # where Add puts a new line
        self.player.set_caption(self.subtitles.cue_at(self._seconds()))
        self._refresh_framing()
        self._frame_timer.start()

    def _request_frame(self) -> None:
        if self.clip is None:
            return
        if self._frame_pending:  # one decode at a time; the timer asks again for the latest
            self._frame_timer.start()
            return
        self._frame_pending = True
        clip, at = self.clip, 0.0 if self.info and self.info.is_still else self._seconds()
        run_in_background(lambda: ops.frame(clip, at), receiver=self, lane="io",
                          on_done=self._on_frame, on_error=self._on_frame_failed)

    def _on_frame(self, image: QImage) -> None:
        self._frame_pending = False
        self.previews.set_frame(image)
        self._refresh_framing()
        self.frame_shown.emit()

    def _on_frame_failed(self, exc: BaseException) -> None:
        self._frame_pending = False
        self.message_shown.emit(one_line(exc))

    def _on_framing_changed(self, *_args: object) -> None:
        self.fit = str(self.fit_choice.currentData())
        self.focus = (self.focus_x.value() / 100, self.focus_y.value() / 100)
        self._refresh_framing()

    def _refresh_framing(self) -> None:
        caption = self.subtitles.cue_at(self._seconds())
        self.player.set_caption(caption)
        self.previews.set_framing(self.fit, self.focus, caption)

    def _seconds(self) -> float:
        return self.player.player.position() / 1000

    # Export ------------------------------------------------------------------------------------

    def open_export_dialog(self) -> ExportDialog:
        folder = self.clip.parent if self.clip is not None else Path.home()
        context, page = self.context, self

        def submit(choices: dict[str, Any]) -> uuid.UUID:
            return ops.submit_export(context, page.export_request(choices))

        dialog = ExportDialog(self.presets, Path.home() / "Videos" if folder.is_relative_to(
            context.studio.paths.data_dir) else folder, submit, context.jobs, self,
            deliver=lambda job_id: ops.deliver(context, job_id))
        dialog.fit.setCurrentIndex(max(0, dialog.fit.findData(self.fit)))
        dialog.setModal(False)
        dialog.show()
        return dialog

    def export_request(self, choices: dict[str, Any]) -> Any:
        """The engine request for the dialog's choices and the page's clip, framing and lines."""
        from studio.engine.media.finishing import Finish
        from studio.engine.media.jobs import ExportRequest
        assert self.clip is not None
        finish = Finish(fit=str(choices["fit"]), focus=self.focus,
                        loudness=-14.0 if choices["loudness"] else None)
        cues = self.subtitles.cues() if choices["subtitles"] else []
        return ExportRequest(inputs=[self.clip], preset=str(choices["preset"]), finish=finish,
                             export_to=Path(choices["folder"]), cues=cues or None,
                             cover_at_s=choices["cover_at_s"])

    # Files -------------------------------------------------------------------------------------

    @property
    def gallery_picker(self) -> GalleryPicker | None:
        return self.make_box.gallery_picker

    def pick_from_gallery(self) -> None:
        self.make_box.pick_from_gallery()

    def _on_open_clicked(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open a clip", "", CLIP_FILTER)
        if path:
            self.open_clip(Path(path))

    def _on_import_srt(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open subtitles", "", "SubRip (*.srt)")
        if path:
            run_in_background(lambda: read_srt(Path(path)), receiver=self, lane="io",
                              on_done=self.subtitles.set_cues, on_error=self._on_error)

    def _on_save_srt(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save subtitles", "", "SubRip (*.srt)")
        if path:
            cues = self.subtitles.cues()
            run_in_background(lambda: write_srt(cues, Path(path)), receiver=self, lane="io",
                              on_error=self._on_error)

    def _on_error(self, exc: BaseException) -> None:
        self.message_shown.emit(one_line(exc))

    def _show_message(self, text: str) -> None:
        self.clip_label.setToolTip(text)
        self.make_status.setText(text)


def _slider(parent: QWidget) -> QSlider:
    slider = QSlider(Qt.Orientation.Horizontal, parent)
    slider.setRange(0, 100)
    slider.setValue(50)
    slider.setMaximumWidth(120)
    slider.setMinimumWidth(40)
    slider.setToolTip("Where the crop centres: what the platform's frame keeps")
    return slider
