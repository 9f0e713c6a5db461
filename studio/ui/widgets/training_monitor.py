"""The Training page's right side: the queue, the selected training's progress, loss and
identity chart, the latest identity score, samples strip, log tail and saved checkpoints. It
only draws what the page hands it and says what the user asked for through ``*_requested``
signals.
"""
from __future__ import annotations

import html
import uuid
from pathlib import Path

from PySide6.QtCore import QSize, Qt, Signal, SignalInstance
from PySide6.QtGui import QIcon, QPixmap
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from studio.engine.jobs.status import JobStatus
from studio.ui.error_actions import for_window
from studio.ui.job_follow import WaitingReasons
from studio.ui.job_hub import JobHub
from studio.ui.models.training_data import CheckpointRow, IdentityState, Snapshot, TrainingRow
from studio.ui.theme_style import tone
from studio.ui.widgets.checkpoint_table import ID_ROLE, ROW_ROLE, CheckpointTable
from studio.ui.widgets.failure_banner import FailureBanner
from studio.ui.widgets.training_chart import LossChart

SAMPLE_SIDE = 96
METADATA_SHOWN = ("ss_base_model_version", "ss_network_dim", "ss_network_alpha", "ss_learning_rate",
                  "ss_steps", "ss_epoch", "ss_num_train_images", "ss_seed", "sshs_model_hash")
STATUS_MARK = {JobStatus.PROCESSING: "▶", JobStatus.PENDING: "…", JobStatus.COMPLETED: "✔",
               JobStatus.FAILED: "✖", JobStatus.CANCELED: "■"}
STATUS_ROLE = Qt.ItemDataRole.UserRole + 2
ENDED_BADLY = (JobStatus.FAILED, JobStatus.CANCELED)


class TrainingMonitor(QWidget):
    selection_changed = Signal(object)  # uuid.UUID
    cancel_requested = Signal(object)
    resume_requested = Signal(object)
    reorder_requested = Signal(list)  # the waiting trainings' ids in their new order
    grid_requested = Signal(object, list)  # training id, checkpoint ids
    activate_requested = Signal(object)  # checkpoint id
    use_requested = Signal(object)  # checkpoint id: generate with it
    import_requested = Signal()  # a LoRA file made elsewhere, into the library

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.selected: TrainingRow | None = None
        self.waiting: WaitingReasons | None = None  # set by attach()
        self._reason: tuple[uuid.UUID | None, str] = (None, "")  # the last reason found, for which job
        self._samples_shown: list[str] = []
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("<b>Trainings</b> (run one after another)", self))
        layout.addWidget(self._build_queue())
        layout.addLayout(self._build_queue_buttons())
        self.headline = QLabel(self)
        self.headline.setObjectName("training-headline")
        self.headline.setWordWrap(True)
        self.progress = QProgressBar(self)
        self.progress.setRange(0, 1000)
        self.banner = FailureBanner(self)  # a failed training: why, Retry (the page attaches the hub)
        layout.addWidget(self.headline)
        layout.addWidget(self.progress)
        layout.addWidget(self.banner)
        layout.addWidget(self._build_details(), 1)
        self._update_buttons()

    def hasHeightForWidth(self) -> bool:  # noqa: N802
        # Its wrapped lines would make the scroll area around it reserve every part's preferred
        # height, so the page scrolled even in a 1080-pixel window; the minimum heights suffice.
        return False

    def _build_queue(self) -> QListWidget:
        self.queue = QListWidget(self)
        self.queue.setObjectName("training-queue")
        self.queue.setMaximumHeight(130)
        self.queue.currentItemChanged.connect(self._on_queue_item_changed)
        return self.queue

    def _build_queue_buttons(self) -> QHBoxLayout:
        buttons = QHBoxLayout()
        self.up_button = QPushButton("Move up", self)
        self.down_button = QPushButton("Move down", self)
        self.cancel_button = QPushButton("Cancel", self)
        self.resume_button = QPushButton("Resume", self)
        self.use_final_button = QPushButton("Use in Generate", self)
        self.use_final_button.setObjectName("training-use-final")
        self.use_final_button.setToolTip("Open Generate with this training's active or final LoRA chosen")
        for button in (self.up_button, self.down_button, self.cancel_button, self.resume_button,
                       self.use_final_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        self.up_button.clicked.connect(lambda: self._move(-1))
        self.down_button.clicked.connect(lambda: self._move(1))
        self.cancel_button.clicked.connect(lambda: self._emit_for_selected(self.cancel_requested))
        self.resume_button.clicked.connect(lambda: self._emit_for_selected(self.resume_requested))
        self.use_final_button.clicked.connect(self._on_use_final_clicked)
        return buttons

    def _build_details(self) -> QSplitter:
        """The chart and the identity line, the samples strip, and the log and checkpoints tabs,
        one above the other."""
        self.chart = LossChart(self)
        self.identity_line = QLabel(self)
        self.identity_line.setObjectName("training-identity")
        self.identity_line.setWordWrap(True)
        charted = QWidget(self)
        charted_layout = QVBoxLayout(charted)
        charted_layout.setContentsMargins(0, 0, 0, 0)
        charted_layout.addWidget(self.chart, 1)
        charted_layout.addWidget(self.identity_line)
        self.samples = QListWidget(self)
        self.samples.setObjectName("training-samples")
        self.samples.setViewMode(QListWidget.ViewMode.IconMode)
        self.samples.setFlow(QListWidget.Flow.LeftToRight)
        self.samples.setWrapping(False)
        self.samples.setIconSize(QSize(SAMPLE_SIDE, SAMPLE_SIDE))
        self.samples.setGridSize(QSize(SAMPLE_SIDE + 48, SAMPLE_SIDE + 24))  # room for "step 800 #0 · 0.85"
        self.samples.setMinimumHeight(SAMPLE_SIDE + 40)
        self.samples.setMaximumHeight(SAMPLE_SIDE + 48)
        self.log = QPlainTextEdit(self)
        self.log.setObjectName("training-log")
        self.log.setReadOnly(True)
        self.log.setMaximumBlockCount(400)
        self.tabs = QTabWidget(self)
        self.tabs.addTab(self.log, "Log")
        self.tabs.addTab(self._build_checkpoints(), "Checkpoints")
        split = QSplitter(Qt.Orientation.Vertical, self)
        split.addWidget(charted)
        split.addWidget(self.samples)
        split.addWidget(self.tabs)
        split.setSizes([260, SAMPLE_SIDE + 40, 260])
        return split

    def _build_checkpoints(self) -> QWidget:
        self.checkpoints = CheckpointTable(self)
        self.checkpoints.itemSelectionChanged.connect(self._on_checkpoint_selection_changed)
        self.metadata = QLabel(self)
        self.metadata.setWordWrap(True)
        self.metadata.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.grid_button = QPushButton("Test grid…", self)
        self.active_button = QPushButton("Set active", self)
        self.use_button = QPushButton("Use in Generate", self)
        self.use_button.setObjectName("training-use-checkpoint")
        self.use_button.setToolTip("Open Generate with the selected checkpoint chosen")
        self.import_button = QPushButton("Import LoRA file…", self)
        self.import_button.setToolTip("Add a .safetensors LoRA made elsewhere to the library")
        self.grid_button.clicked.connect(self._on_grid_clicked)
        self.active_button.clicked.connect(self._on_active_clicked)
        self.use_button.clicked.connect(self._on_use_clicked)
        self.import_button.clicked.connect(self.import_requested)
        saved = QWidget(self)
        saved_layout = QVBoxLayout(saved)
        saved_layout.addWidget(self.checkpoints, 1)
        saved_layout.addWidget(self.metadata)
        row = QHBoxLayout()
        row.addWidget(self.grid_button)
        row.addWidget(self.active_button)
        row.addWidget(self.use_button)
        row.addStretch(1)
        row.addWidget(self.import_button)
        saved_layout.addLayout(row)
        return saved

    # Drawing ---------------------------------------------------------------------------------

    def show_snapshot(self, snap: Snapshot, *, new_selection: bool) -> None:
        self._fill_queue(snap)
        self.selected = snap.selected
        if new_selection:
            self.chart.clear()
            self.samples.clear()
            self._samples_shown = []
        self.chart.add_points(snap.points)
        self.chart.show_identity(snap.identity.points)
        self._show_identity(snap.identity, snap.checkpoints)
        row = snap.selected
        if row is None:
            self.headline.setText("No trainings yet: choose a dataset and a preset, then Start.")
            self.progress.setValue(0)
        else:
            text = f"<b>{row.output_name}</b> — {row.status.value}"
            if row.stage or row.message:
                text += f": {' · '.join(p for p in (row.stage, row.message) if p)}"
            if row.error and row.status is not JobStatus.FAILED:  # a failure is in the banner
                line = for_window(row.error.splitlines()[0]).text
                text += f"<br><span style='color:{tone('error')}'>{line}</span>"
            self.headline.setText(text)
            self.progress.setValue(int(row.progress * 1000))
        self._show_failure(row)
        if self.waiting is not None:
            pending = row is not None and row.status is JobStatus.PENDING
            self.waiting.explain(row.id if row is not None and pending else None)
            if row is not None and pending and self._reason[0] == row.id:
                self._on_waiting_reason(row.id, self._reason[1])
        self._fill_samples(snap.samples, snap.sample_images)
        self._label_samples(snap.identity.scores)
        self._fill_log(snap.log_tail, snap.selected)
        self._fill_checkpoints(snap.checkpoints)
        self._update_buttons()

    def attach(self, hub: JobHub) -> None:
        """The app's job hub: Retry of a failed training, and why a waiting one waits."""
        self.banner.attach(hub)
        self.waiting = WaitingReasons(hub, self)
        self.waiting.found.connect(self._on_waiting_reason)

    def _on_waiting_reason(self, job_id: uuid.UUID, reason: str) -> None:
        self._reason = (job_id, reason)
        row = self.selected
        if reason and row is not None and row.id == job_id and row.status is JobStatus.PENDING:
            self.headline.setText(f"<b>{html.escape(row.output_name)}</b> — waiting: {html.escape(reason)}")

    def _show_failure(self, row: TrainingRow | None) -> None:
        if row is not None and row.status is JobStatus.FAILED and row.error:
            self.banner.show_message(for_window(row.error.splitlines()[0]), [row.id])
        else:
            self.banner.hide()

    def _fill_queue(self, snap: Snapshot) -> None:
        wanted = snap.selected.id if snap.selected else None
        self.queue.blockSignals(True)
        self.queue.clear()
        for row in [*snap.queue, *snap.history]:
            percent = f" {row.progress * 100:.0f}%" if row.status is JobStatus.PROCESSING else ""
            item = QListWidgetItem(f"{STATUS_MARK[row.status]} {row.title} — {row.status.value}{percent}")
            item.setData(ID_ROLE, row.id)
            item.setData(STATUS_ROLE, row.status.value)
            self.queue.addItem(item)
            if row.id == wanted:
                self.queue.setCurrentItem(item)
        self.queue.blockSignals(False)

    def samples_known(self) -> int:
        return len(self._samples_shown)

    def _fill_samples(self, samples: list[Path], images: dict[str, object]) -> None:
        names = [p.name for p in samples]
        if names[:len(self._samples_shown)] != self._samples_shown:
            self.samples.clear()
            self._samples_shown = []
        for path in samples[len(self._samples_shown):]:
            image = images.get(path.name)
            if image is None:
                break  # decoded in the background on the next poll
            item = QListWidgetItem(QIcon(QPixmap.fromImage(image)), _sample_label(path.name))  # type: ignore[arg-type]
            item.setToolTip(str(path))
            self.samples.addItem(item)
            self._samples_shown.append(path.name)
        if samples:
            self.samples.scrollToBottom()

    def _label_samples(self, scores: dict[str, float]) -> None:
        """``step 800 #0 · 0.85``: a sample's identity score joins its label once scored."""
        for index, name in enumerate(self._samples_shown):
            item = self.samples.item(index)
            score = scores.get(name)
            label = _sample_label(name) + (f" · {score:.2f}" if score is not None else "")
            if item.text() != label:
                item.setText(label)

    def _fill_log(self, lines: list[str], row: TrainingRow | None) -> None:
        text = "\n".join(lines)
        if row is not None and row.error and row.status is JobStatus.FAILED:
            text += "\n\n" + for_window(row.error).text
        if text != self.log.toPlainText():
            self.log.setPlainText(text)
            self.log.verticalScrollBar().setValue(self.log.verticalScrollBar().maximum())

    def _fill_checkpoints(self, rows: list[CheckpointRow]) -> None:
        self.checkpoints.fill(rows)
        self._on_checkpoint_selection_changed()

    def _show_identity(self, state: IdentityState, checkpoints: list[CheckpointRow]) -> None:
        """``Identity 0.83 at step 800 (median of 4 samples) · latest sample 0.85 · suggested: …``,
        or why there is none."""
        parts = []
        if state.points:
            last = state.points[-1]
            parts.append(f"Identity {last.median:.2f} at step {last.step} (median of {last.samples} "
                         f"sample{'s' if last.samples != 1 else ''})")
        if state.latest is not None:
            parts.append(f"latest sample {state.latest:.2f}")
        elif state.note:
            parts.append(state.note)
        best = next((row for row in checkpoints if row.suggested), None)
        if best is not None:
            parts.append(f"suggested checkpoint: {best.name}")
        if not parts and self.selected is not None:
            parts.append("Identity: each sample picture is scored against her reference faces as it appears")
        self.identity_line.setText(" · ".join(parts))

    # Asking ----------------------------------------------------------------------------------

    def _on_queue_item_changed(self, item: QListWidgetItem | None, _: object = None) -> None:
        if item is not None:
            self.selection_changed.emit(item.data(ID_ROLE))

    def _emit_for_selected(self, signal: SignalInstance) -> None:
        if self.selected is not None:
            signal.emit(self.selected.id)

    def _move(self, delta: int) -> None:
        waiting = [self.queue.item(i).data(ID_ROLE) for i in range(self.queue.count())
                   if self.queue.item(i).data(STATUS_ROLE) == JobStatus.PENDING]
        if self.selected is None or self.selected.id not in waiting:
            return
        index = waiting.index(self.selected.id)
        target = index + delta
        if 0 <= target < len(waiting):
            waiting[index], waiting[target] = waiting[target], waiting[index]
            self.reorder_requested.emit(waiting)

    def selected_checkpoints(self) -> list[uuid.UUID]:
        return [item.data(0, ID_ROLE) for item in self.checkpoints.selectedItems()]

    def _on_checkpoint_selection_changed(self) -> None:
        items = self.checkpoints.selectedItems()
        row: CheckpointRow | None = items[0].data(0, ROW_ROLE) if items else None
        if row is None:
            self.metadata.setText("Select a checkpoint to see its ss_* metadata.")
        else:
            shown = ", ".join(f"{k}={row.ss_metadata[k]}" for k in METADATA_SHOWN if k in row.ss_metadata)
            self.metadata.setText(f"{row.path.name}: {shown}")
        self._update_buttons()

    def _on_grid_clicked(self) -> None:
        if self.selected is not None:
            self.grid_requested.emit(self.selected.id, self.selected_checkpoints())

    def _on_active_clicked(self) -> None:
        chosen = self.selected_checkpoints()
        if len(chosen) == 1:
            self.activate_requested.emit(chosen[0])

    def _on_use_clicked(self) -> None:
        chosen = self.selected_checkpoints()
        if len(chosen) == 1:
            self.use_requested.emit(chosen[0])

    def _on_use_final_clicked(self) -> None:
        chosen = self.final_checkpoint()
        if chosen is not None:
            self.use_requested.emit(chosen.id)

    def final_checkpoint(self) -> CheckpointRow | None:
        """The finished training's LoRA to generate with: its active one, else its final, else its last."""
        rows = self.checkpoints.rows()
        return next((r for r in rows if r.active), None) or next((r for r in rows if r.kind == "final"), None) \
            or (rows[-1] if rows else None)

    def _update_buttons(self) -> None:
        row = self.selected
        status = row.status if row else None
        self.cancel_button.setEnabled(status is not None and status.active)
        self.resume_button.setEnabled(status in ENDED_BADLY)
        self.up_button.setEnabled(status is JobStatus.PENDING)
        self.down_button.setEnabled(status is JobStatus.PENDING)
        has_checkpoints = self.checkpoints.topLevelItemCount() > 0
        self.grid_button.setEnabled(has_checkpoints)
        self.active_button.setEnabled(len(self.checkpoints.selectedItems()) == 1)
        self.use_button.setEnabled(len(self.checkpoints.selectedItems()) == 1)
        self.use_final_button.setEnabled(status is JobStatus.COMPLETED and has_checkpoints)


def _sample_label(name: str) -> str:
    """``mia_000500_00_20260216120000_42.png`` → ``step 500 #0``; epoch samples say ``epoch 2``."""
    parts = name.removesuffix(".png").split("_")
    for index, part in enumerate(parts):
        if part.isdigit() and len(part) == 6 and index + 1 < len(parts):
            return f"step {int(part)} #{int(parts[index + 1])}"
        if part.startswith("e") and part[1:].isdigit() and len(part) == 7 and index + 1 < len(parts):
            return f"epoch {int(part[1:])} #{int(parts[index + 1])}"
    return name

