"""The dataset at a glance: counts, problems, a bucket histogram, one-click fixes and export."""
from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtGui import QPainter, QPaintEvent, QPalette
from PySide6.QtWidgets import QGridLayout, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from studio.engine.datasets.checks import IssueSummary
from studio.engine.datasets.curation import duplicate_groups
from studio.engine.datasets.filters import ImageRow

# identity.dataset.FLAGS, as the summary names them ("Exclude 3 different-person pictures").
IDENTITY_FLAGS = (("different_person", "Different person", "different-person"),
                  ("several_people", "Several people", "several-people"),
                  ("no_face", "No face of her", "no-face"))


@dataclass(frozen=True, slots=True)
class Summary:
    images: int = 0
    captioned: int = 0
    excluded: int = 0
    analyzed: int = 0
    near_dup_groups: int = 0
    near_dup_extra: tuple[uuid.UUID, ...] = ()  # all but the keeper of each group, not excluded
    blurry: tuple[uuid.UUID, ...] = ()  # blurry and not excluded
    faces: tuple[int, int, int] = (0, 0, 0)  # none, one, many (analysed images only)
    buckets: tuple[tuple[str, int], ...] = field(default=())
    clips: int = 0  # of the images, how many are clips
    judged: int = 0  # pictures with an identity verdict
    flagged: tuple[tuple[uuid.UUID, ...], ...] = ((), (), ())  # per IDENTITY_FLAGS, not excluded


def summarize(rows: Sequence[ImageRow]) -> Summary:
    """Counts over the whole dataset. Of each near-duplicate group one picture is kept (see
    ``curation.keeper_of``); the others still included are candidates to exclude."""
    groups = duplicate_groups(rows)
    excluded = {r.id for r in rows if r.excluded}
    extra = [i for group in groups for i in group.others() if i not in excluded]
    analysed = [r for r in rows if r.analyzed]
    buckets = Counter(f"{r.crop['bucket'][0]}×{r.crop['bucket'][1]}" for r in rows
                      if not r.excluded and r.crop and r.crop.get("bucket"))
    return Summary(
        images=len(rows), captioned=sum(bool(r.caption.strip()) for r in rows),
        excluded=sum(r.excluded for r in rows), analyzed=len(analysed),
        near_dup_groups=len(groups), near_dup_extra=tuple(extra),
        blurry=tuple(r.id for r in rows if r.blurry and not r.excluded),
        faces=(sum(r.face_count == 0 for r in analysed), sum(r.face_count == 1 for r in analysed),
               sum(r.face_count > 1 for r in analysed)),
        buckets=tuple(sorted(buckets.items(), key=lambda item: (-item[1], item[0]))),
        clips=sum(r.clip is not None for r in rows), judged=sum(r.identity is not None for r in rows),
        flagged=tuple(tuple(r.id for r in rows if not r.excluded and r.flagged(flag))
                      for flag, _title, _word in IDENTITY_FLAGS))


class BucketBars(QWidget):
    """A plain horizontal bar per bucket, largest first."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.buckets: tuple[tuple[str, int], ...] = ()
        self.setMinimumHeight(20)

    def set_buckets(self, buckets: tuple[tuple[str, int], ...]) -> None:
        self.buckets = buckets[:8]
        self.setFixedHeight(max(20, 18 * len(self.buckets) + 4))
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        painter = QPainter(self)
        palette = self.palette()
        painter.setPen(palette.color(QPalette.ColorRole.WindowText))
        if not self.buckets:
            painter.setPen(palette.color(QPalette.ColorRole.PlaceholderText))
            painter.drawText(self.rect(), int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter),
                             "No crops yet: run the analysis")
            return
        most = max(count for _, count in self.buckets)
        label_w, count_w = 80, 44
        bar_w = max(self.width() - label_w - count_w, 10)
        for i, (name, count) in enumerate(self.buckets):
            top = 2 + i * 18
            painter.setPen(palette.color(QPalette.ColorRole.WindowText))
            painter.drawText(QRectF(0, top, label_w - 6, 16),
                             int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter), name)
            painter.fillRect(QRectF(label_w, top + 3, bar_w * count / most, 11),
                             palette.color(QPalette.ColorRole.Highlight))
            painter.drawText(QRectF(label_w + bar_w + 4, top, count_w, 16),
                             int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter), str(count))


class DatasetSummary(QWidget):
    exclude_duplicates_requested = Signal()  # the page shows the groups before excluding
    exclude_blurry_requested = Signal()
    export_requested = Signal()
    analyze_requested = Signal()
    flag_shown = Signal(str)  # show only the pictures with this identity flag
    flag_exclusion_requested = Signal(str)  # exclude the pictures with this identity flag
    faces_requested = Signal()  # the face clusters panel

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.summary = Summary()
        self.problems = QLabel(self)
        self.problems.setWordWrap(True)
        self.problems.setObjectName("summary-problem-list")
        self.bars = BucketBars(self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(QLabel("<b>Summary</b>", self))
        layout.addLayout(self._build_counts())
        layout.addWidget(self.problems)
        layout.addWidget(QLabel("<b>Buckets</b>", self))
        layout.addWidget(self.bars)
        layout.addWidget(QLabel("<b>Identity</b>", self))
        layout.addWidget(self._build_identity())
        layout.addSpacing(6)
        for button in self._build_buttons():
            layout.addWidget(button)
        layout.addStretch(1)
        self.show_summary(Summary())

    def _build_counts(self) -> QGridLayout:
        self.values: dict[str, QLabel] = {}
        grid = QGridLayout()
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setVerticalSpacing(2)
        names = (("images", "Images"), ("captioned", "Captioned"), ("excluded", "Excluded"),
                 ("analyzed", "Analysed"), ("groups", "Near-duplicate groups"), ("blurry", "Blurry"),
                 ("faces", "Faces none / one / many"), ("problems", "Caption problems"))
        for row, (key, title) in enumerate(names):
            grid.addWidget(QLabel(title, self), row, 0)
            self.values[key] = QLabel("–", self)
            self.values[key].setObjectName(f"summary-{key}")
            self.values[key].setAlignment(Qt.AlignmentFlag.AlignRight)
            grid.addWidget(self.values[key], row, 1)
        return grid

    def _build_identity(self) -> QWidget:
        """A count per identity flag with Show; Exclude buttons; the Faces… panel."""
        box = QWidget(self)
        grid = QGridLayout(box)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setVerticalSpacing(2)
        self.identity_note = QLabel(box)
        self.identity_note.setWordWrap(True)
        self.identity_note.setObjectName("summary-identity-note")
        grid.addWidget(self.identity_note, 0, 0, 1, 2)
        self._build_flag_rows(box, grid)
        self.faces_button = QPushButton("Faces…", box)
        self.faces_button.setToolTip("The faces of this dataset grouped by person, largest group first")
        self.faces_button.clicked.connect(self.faces_requested)
        grid.addWidget(self.faces_button, 2 * len(IDENTITY_FLAGS) + 1, 0, 1, 2)
        return box

    def _build_flag_rows(self, box: QWidget, grid: QGridLayout) -> None:
        """Per flag: its title and count, then Show and Exclude N under them (the column is narrow)."""
        self.flag_counts: dict[str, QLabel] = {}
        self.flag_show: dict[str, QPushButton] = {}
        self.flag_exclude: dict[str, QPushButton] = {}
        self.flag_actions: dict[str, QWidget] = {}
        for number, (flag, title, word) in enumerate(IDENTITY_FLAGS):
            row = 1 + 2 * number
            grid.addWidget(QLabel(title, box), row, 0)
            self.flag_counts[flag] = QLabel("–", box)
            self.flag_counts[flag].setObjectName(f"summary-{flag}")
            self.flag_counts[flag].setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            grid.addWidget(self.flag_counts[flag], row, 1)
            actions = self.flag_actions[flag] = QWidget(box)
            line = QHBoxLayout(actions)
            line.setContentsMargins(0, 0, 0, 4)
            show = self.flag_show[flag] = QPushButton("Show", actions)
            show.setToolTip(f"Show only the {word} pictures that are not excluded")
            show.clicked.connect(lambda _=False, f=flag: self.flag_shown.emit(f))
            exclude = self.flag_exclude[flag] = QPushButton(actions)
            exclude.clicked.connect(lambda _=False, f=flag: self.flag_exclusion_requested.emit(f))
            line.addWidget(show)
            line.addWidget(exclude, 1)
            grid.addWidget(actions, row + 1, 0, 1, 2)

    def _build_buttons(self) -> tuple[QPushButton, ...]:
        self.exclude_dups_button = QPushButton("Exclude near-duplicates", self)
        self.exclude_dups_button.setToolTip("Shows each group side by side; all but the picture kept "
                                            "are excluded (Undo brings them back)")
        self.exclude_blurry_button = QPushButton("Exclude blurry", self)
        self.analyze_button = QPushButton("Analyse", self)
        self.analyze_button.setToolTip("Hashes, quality, faces and crops for images not analysed yet")
        self.export_button = QPushButton("Export…", self)
        self.export_button.setToolTip("A kohya sd-scripts folder with captions and dataset_config.toml")
        self.exclude_blurry_button.setToolTip("Shows the softest pictures with their sharpness score and "
                                              "a threshold to adjust, then excludes them")
        self.exclude_dups_button.clicked.connect(self.exclude_duplicates_requested)
        self.exclude_blurry_button.clicked.connect(self.exclude_blurry_requested)
        self.export_button.clicked.connect(self.export_requested)
        self.analyze_button.clicked.connect(self.analyze_requested)
        return (self.exclude_dups_button, self.exclude_blurry_button, self.analyze_button,
                self.export_button)

    def show_summary(self, summary: Summary) -> None:
        self.summary = summary
        none, one, many = summary.faces
        clips = f"{summary.clips} clip" + ("s" if summary.clips > 1 else "")
        images = f"{summary.images} ({clips})" if summary.clips else summary.images
        texts = {"images": images, "captioned": summary.captioned, "excluded": summary.excluded,
                 "analyzed": summary.analyzed, "groups": summary.near_dup_groups,
                 "blurry": len(summary.blurry), "faces": f"{none} / {one} / {many}"}
        for key, value in texts.items():
            self.values[key].setText(str(value))
        self.bars.set_buckets(summary.buckets)
        self.exclude_dups_button.setEnabled(bool(summary.near_dup_extra))
        self.exclude_dups_button.setText(f"Exclude near-duplicates ({len(summary.near_dup_extra)})")
        self.exclude_blurry_button.setEnabled(summary.analyzed > summary.excluded)  # any threshold may find some
        self.exclude_blurry_button.setText(f"Exclude blurry ({len(summary.blurry)})")
        self._show_identity(summary)

    def _show_identity(self, summary: Summary) -> None:
        self.identity_note.setText(
            f"{summary.judged} of {summary.images} pictures compared with her reference faces"
            if summary.judged else "Not compared with her reference faces yet: analyse the dataset")
        for (flag, _title, word), ids in zip(IDENTITY_FLAGS, summary.flagged, strict=True):
            count = len(ids)
            pictures = f"{count} {word} picture" + ("" if count == 1 else "s")
            self.flag_counts[flag].setText(str(count))
            self.flag_exclude[flag].setText(f"Exclude {count}")
            self.flag_exclude[flag].setToolTip(f"Exclude the {pictures} in one step; Undo brings them back")
            self.flag_actions[flag].setVisible(bool(count))

    def show_problems(self, problems: IssueSummary) -> None:
        """``caption_checks`` results, counted off the UI thread."""
        self.values["problems"].setText(str(problems.count))
        names = {"empty": "empty captions", "missing-trigger": "without the trigger word",
                 "too-long": "over the token limit", "duplicate": "groups of identical captions"}
        self.problems.setText("<br>".join(f"• {count} {names.get(kind, kind)}" for kind, count in problems.kinds))
        self.problems.setToolTip("\n".join(problems.first))

