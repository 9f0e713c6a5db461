"""The Video page's "Image to video" form: a picture, a video workflow and its ranges, Make video.

It submits the generate-video job in the background and follows it through the app's job hub;
the finished clip is handed to the page, which plays and frames it.
"""
from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any, cast

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QWidget,
)

from studio.engine.comfyui.vram import estimate_for
from studio.engine.comfyui.workflows import WorkflowTemplate
from studio.engine.jobs.snapshot import JobSnapshot
from studio.engine.jobs.status import JobStatus
from studio.ui.context import StudioContext
from studio.ui.errors import one_line
from studio.ui.job_follow import JobFollower, WaitingReasons
from studio.ui.pages import video_ops as ops
from studio.ui.tasks import run_in_background
from studio.ui.widgets.failure_banner import FailureBanner
from studio.ui.widgets.gallery_picker import GalleryPicker

IMAGE_FILTER = "Images (*.png *.jpg *.jpeg *.webp)"


class MakeVideoBox(QGroupBox):
    clip_made = Signal(object)  # Path of the finished clip
    video_queued = Signal(object)  # uuid.UUID of the job

    def __init__(self, context: StudioContext, parent: QWidget | None = None) -> None:
        super().__init__("Image to video", parent)
        self.context = context
        self.gallery_picker: GalleryPicker | None = None
        self.banner = FailureBanner(self, hub=context.jobs, stacked=True)  # a failed video: why, Retry
        self._build()
        self._build_more()
        self.follower = JobFollower(context.jobs, self)
        self.follower.job_changed.connect(self._on_make_progress)
        self.follower.job_finished.connect(self._on_made)
        self.waiting = WaitingReasons(context.jobs, self)
        self.waiting.found.connect(self._on_waiting_reason)
        self.banner.retried.connect(lambda job_ids: self._on_video_queued(job_ids[0]))
        run_in_background(ops.video_templates, receiver=self, lane="io",
                          on_done=self._on_templates_loaded)

    def _build(self) -> None:
        box = self
        self.image_path = QLineEdit(box)
        self.image_path.setPlaceholderText("a picture from the gallery or a file")
        pick = QPushButton("File…", box)
        pick.clicked.connect(self._on_pick_image_clicked)
        self.gallery_button = QPushButton("Gallery…", box)
        self.gallery_button.setToolTip("One of the pictures generated in this workspace")
        self.gallery_button.clicked.connect(self.pick_from_gallery)
        row = QHBoxLayout()  # below the path, which gets the column's whole width to show
        row.addWidget(self.gallery_button)
        row.addWidget(pick)
        row.addStretch(1)
        self.template = QComboBox(box)
        self.frames = _spin(QSpinBox(box), 1, 128, 25)
        self.fps = _spin(QSpinBox(box), 1, 60, 8)
        self.motion = _spin(QDoubleSpinBox(box), 0, 1023, 127)
        self.seed = _spin(QSpinBox(box), -1, 2**31 - 1, -1)
        self.seed.setSpecialValueText("random")
        self.prompt = QLineEdit(box)
        self.prompt.setPlaceholderText("AnimateDiff and Wan: what moves and how")
        self.make_button = QPushButton("Make video", box)
        self.make_button.clicked.connect(self._on_make_clicked)
        self.make_progress = QProgressBar(box)
        self.make_progress.setRange(0, 1000)
        self.make_status = QLabel("", box)
        self.make_status.setWordWrap(True)
        form = self.form = QFormLayout(box)
        form.addRow("Image", self.image_path)
        form.addRow("", row)
        form.addRow("Workflow", self.template)
        form.addRow("Frames", self.frames)
        form.addRow("Frame rate", self.fps)
        form.addRow("Motion", self.motion)
        form.addRow("Seed", self.seed)
        form.addRow("Prompt", self.prompt)
        form.addRow(self.make_button)
        form.addRow(self.make_progress)
        form.addRow(self.make_status)
        form.addRow(self.banner)


    def _build_more(self) -> None:
        """A first-and-last-frame workflow's second picture, shown only for such a workflow, and
        the VRAM the chosen workflow needs at these frames (arithmetic, no I/O)."""
        self.vram = QLabel("", self)
        self.vram.setWordWrap(True)
        self.vram.setToolTip("An estimate from the model family, the size and the weights, not "
                             "a measurement; ComfyUI moves what does not fit into RAM, more slowly.")
        above, _role = cast(tuple[int, object], self.form.getWidgetPosition(self.make_button))
        self.form.insertRow(above, self.vram)  # just above Make video
        self.frames.valueChanged.connect(self._on_frames_changed)
        self.last_frame = QLineEdit(self)
        self.last_frame.setPlaceholderText("the picture the clip ends on")
        pick = QPushButton("File…", self)
        pick.clicked.connect(self._on_pick_last_frame_clicked)
        self.last_frame_row = QWidget(self)
        row = QHBoxLayout(self.last_frame_row)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.last_frame, 1)
        row.addWidget(pick)
        self.form.insertRow(2, "Last frame", self.last_frame_row)
        self.form.setRowVisible(self.last_frame_row, False)

    def _on_templates_loaded(self, templates: list[tuple[str, str, dict[str, Any], bool]]) -> None:
        for name, title, ranges, template in templates:
            self.template.addItem(title, (name, ranges, template))
        self.template.currentIndexChanged.connect(self._on_template_changed)
        self._on_template_changed()

    def _on_template_changed(self, *_args: object) -> None:
        """Frames, frame rate and motion take the chosen workflow's ranges and defaults."""
        choice: tuple[str, ops.Ranges, WorkflowTemplate | None] = (
            self.template.currentData() or ("", {}, None))
        _name, ranges, template = choice
        for key, box in (("frames", self.frames), ("fps", self.fps), ("motion", self.motion)):
            if key in ranges:
                low, high, default = ranges[key]
                _spin(box, low, high, default)
        self.motion.setDecimals(0 if ranges.get("motion", (0, 1024, 0))[1] > 10 else 2)
        self.form.setRowVisible(self.motion, "motion" in ranges)  # Wan has no motion strength
        self.form.setRowVisible(self.last_frame_row, _takes_last_frame(template))
        self._on_frames_changed()

    def _on_frames_changed(self, *_args: object) -> None:
        template = (self.template.currentData() or ("", {}, None))[2]
        found = estimate_for(template, {"frames": self.frames.value()}) if template else None
        self.vram.setText(found.line if found is not None else "")
        self.form.setRowVisible(self.vram, found is not None)

    def _on_make_clicked(self) -> None:
        image = self.image_path.text().strip()
        if not image:
            self.make_status.setText("Choose the image to animate first.")
            return
        values = self._values()
        if values is None:
            return
        template = str((self.template.currentData() or ("i2v-svd", {}))[0])
        if template != "i2v-svd" and self.prompt.text().strip():
            values["positive"] = self.prompt.text().strip()
        if self.seed.value() >= 0:
            values["seed"] = self.seed.value()
        self.make_button.setEnabled(False)
        self.make_status.setText("Checking the workflow with ComfyUI…")
        context = self.context
        run_in_background(lambda: ops.submit_video(context, Path(image), template, values),
                          receiver=self, lane="io", on_done=self._on_video_queued,
                          on_error=self._on_make_failed)

    def _values(self) -> dict[str, object] | None:
        """Frames and rate; motion and a last frame where the chosen workflow takes them."""
        name, ranges, template = self.template.currentData() or ("i2v-svd", {}, None)
        values: dict[str, object] = {"frames": self.frames.value(), "fps": self.fps.value()}
        if "motion" in ranges:
            values["motion"] = int(self.motion.value()) if name == "i2v-svd" else self.motion.value()
        if _takes_last_frame(template):
            if not self.last_frame.text().strip():
                self.make_status.setText("Choose the picture the clip ends on too.")
                return None
            values["end_image"] = self.last_frame.text().strip()
        return values

    def _on_pick_last_frame_clicked(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Last frame", "", IMAGE_FILTER)
        if path:
            self.last_frame.setText(path)

    def _on_video_queued(self, job_id: uuid.UUID) -> None:
        self.make_button.setEnabled(False)
        self.banner.hide()
        self.video_queued.emit(job_id)
        self.follower.follow(job_id)

    def _on_waiting_reason(self, _job_id: uuid.UUID, reason: str) -> None:
        if reason:
            self.make_status.setText(reason)

    def _on_make_failed(self, exc: BaseException) -> None:
        self.make_button.setEnabled(True)
        self.make_status.setText(one_line(exc))

    def _on_make_progress(self, state: JobSnapshot) -> None:
        self.make_progress.setValue(round(state.progress * 1000))
        self.make_status.setText(f"{state.stage or state.status} {state.message}".strip())
        self.waiting.explain(state.id if state.status is JobStatus.PENDING else None)

    def _on_made(self, state: JobSnapshot) -> None:
        self.make_button.setEnabled(True)
        output = (state.result or {}).get("output")
        if state.status is JobStatus.COMPLETED and output:
            self.clip_made.emit(self.context.studio.asset_path(str(output)))  # an asset key
        elif state.status is not JobStatus.COMPLETED:
            self.make_status.setText(f"The video {state.status.value}.")
            self.banner.show_jobs([state])

    def _on_pick_image_clicked(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Image to animate", "", IMAGE_FILTER)
        if path:
            self.image_path.setText(path)

    def pick_from_gallery(self) -> None:
        self.gallery_picker = GalleryPicker(self.context, self)
        self.gallery_picker.picked.connect(lambda path: self.image_path.setText(str(path)))
        self.gallery_picker.open()


def _takes_last_frame(template: WorkflowTemplate | None) -> bool:
    return template is not None and "end_image" in template.parameters


def _spin(box: Any, low: float, high: float, value: float) -> Any:
    box.setRange(low, high)
    box.setValue(value)
    return box
