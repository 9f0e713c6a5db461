"""A preview player for generated and exported clips (Qt Multimedia).

Play/pause, a scrub bar, one-frame steps, loop and volume; the current subtitle line is shown
under the picture. Qt Multimedia decodes on its own threads, so nothing here blocks the UI.
A clip that loads is paused at its start, so its first frame shows instead of a black box.
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, QUrl, Signal
from PySide6.QtMultimedia import QAudioOutput, QMediaPlayer
from PySide6.QtMultimediaWidgets import QVideoWidget
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QSlider, QStyle, QToolButton, QVBoxLayout, QWidget

DEFAULT_FPS = 30.0


class VideoPlayer(QWidget):
    position_changed = Signal(int)  # milliseconds
    media_loaded = Signal(int)  # duration in milliseconds
    load_failed = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.fps = DEFAULT_FPS
        self.source: Path | None = None
        self._cue_first_frame = False  # set by load(): pause at 0 once the media is loaded
        self.player = QMediaPlayer(self)
        self.audio = QAudioOutput(self)
        self.player.setAudioOutput(self.audio)
        self.video = QVideoWidget(self)
        self.video.setMinimumSize(160, 90)
        self.video.setStyleSheet("background: black;")
        self.video.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.player.setVideoOutput(self.video)
        self.caption = QLabel("", self)
        self.caption.setObjectName("video-caption")
        self.caption.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.caption.setWordWrap(True)
        pixmaps = QStyle.StandardPixmap
        self.play_button = self._button(pixmaps.SP_MediaPlay, "Play or pause", self.toggle_play)
        self.back_button = self._button(pixmaps.SP_MediaSeekBackward, "One frame back",
                                        lambda: self.step(-1))
        self.forward_button = self._button(pixmaps.SP_MediaSeekForward, "One frame forward",
                                           lambda: self.step(1))
        self.scrub = QSlider(Qt.Orientation.Horizontal, self)
        self.scrub.setObjectName("video-scrub")
        self.scrub.sliderMoved.connect(self.player.setPosition)
        self.time_label = QLabel("0:00.0 / 0:00.0", self)
        self.loop = QCheckBox("Loop", self)
        self.loop.toggled.connect(self._on_loop_toggled)
        self.volume = QSlider(Qt.Orientation.Horizontal, self)
        self.volume.setRange(0, 100)
        self.volume.setValue(80)
        self.volume.setMaximumWidth(70)
        self.volume.setToolTip("Volume")
        self.volume.valueChanged.connect(lambda v: self.audio.setVolume(v / 100))
        self.audio.setVolume(0.8)
        self._layout()
        self._connect()

    def _connect(self) -> None:
        self.player.durationChanged.connect(self._on_duration_changed)
        self.player.positionChanged.connect(self._on_position_changed)
        self.player.playbackStateChanged.connect(self._on_state_changed)
        self.player.errorOccurred.connect(self._on_error)
        self.player.mediaStatusChanged.connect(self._on_media_status_changed)

    def _button(self, pixmap: QStyle.StandardPixmap, tip: str, slot: object) -> QToolButton:
        button = QToolButton(self)
        button.setIcon(self.style().standardIcon(pixmap))
        button.setToolTip(tip)
        button.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # Space is play/pause, never a click
        button.clicked.connect(slot)
        return button

    def _layout(self) -> None:
        controls = QHBoxLayout()
        for widget in (self.play_button, self.back_button, self.forward_button):
            controls.addWidget(widget)
        controls.addWidget(self.scrub, 1)
        controls.addWidget(self.time_label)
        controls.addWidget(self.loop)
        speaker = QLabel(self)
        speaker.setPixmap(self.style().standardIcon(QStyle.StandardPixmap.SP_MediaVolume).pixmap(16, 16))
        controls.addWidget(speaker)
        controls.addWidget(self.volume)
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.video, 1)
        column.addWidget(self.caption)
        column.addLayout(controls)

    # Commands ----------------------------------------------------------------------------------

    def load(self, path: Path, *, fps: float | None = None) -> None:
        self.source = Path(path)
        self.fps = fps or DEFAULT_FPS
        self._cue_first_frame = True
        self.player.setSource(QUrl.fromLocalFile(str(path)))

    def toggle_play(self) -> None:
        if self.player.playbackState() == QMediaPlayer.PlaybackState.PlayingState:
            self.player.pause()
        else:
            self.player.play()

    def seek(self, ms: int) -> None:
        self.player.setPosition(max(0, min(ms, self.player.duration())))

    def step(self, frames: int) -> None:
        """Frame by frame, paused, as an editor expects."""
        self.player.pause()
        self.seek(self.player.position() + round(frames * 1000 / self.fps))

    def set_caption(self, text: str) -> None:
        self.caption.setText(text)

    # Slots -------------------------------------------------------------------------------------

    def _on_duration_changed(self, duration: int) -> None:
        self.scrub.setRange(0, max(0, duration))
        self._show_time(self.player.position())
        if duration > 0:
            self.media_loaded.emit(duration)

    def _on_position_changed(self, position: int) -> None:
        if not self.scrub.isSliderDown():
            self.scrub.setValue(position)
        self._show_time(position)
        self.position_changed.emit(position)

    def _on_state_changed(self, state: QMediaPlayer.PlaybackState) -> None:
        playing = state == QMediaPlayer.PlaybackState.PlayingState
        pixmap = QStyle.StandardPixmap.SP_MediaPause if playing else QStyle.StandardPixmap.SP_MediaPlay
        self.play_button.setIcon(self.style().standardIcon(pixmap))

    def _on_media_status_changed(self, status: QMediaPlayer.MediaStatus) -> None:
        if status == QMediaPlayer.MediaStatus.LoadedMedia and self._cue_first_frame:
            self._cue_first_frame = False
            self.player.pause()  # a paused player decodes and shows the frame at 0

    def _on_loop_toggled(self, on: bool) -> None:
        self.player.setLoops(QMediaPlayer.Loops.Infinite if on else 1)

    def _on_error(self, _error: QMediaPlayer.Error, text: str) -> None:
        self.load_failed.emit(text or "This file cannot be played.")

    def _show_time(self, position: int) -> None:
        self.time_label.setText(f"{_clock(position)} / {_clock(self.player.duration())}")


def _clock(ms: int) -> str:
    seconds = max(ms, 0) / 1000
    return f"{int(seconds // 60)}:{seconds % 60:04.1f}"
