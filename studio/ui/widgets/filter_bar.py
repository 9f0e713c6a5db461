"""The grid's filters and sort order, reported as one ``ImageFilter`` value."""
from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from studio.engine.datasets.analysis import BLUR_THRESHOLD
from studio.engine.datasets.filters import ImageFilter
from studio.ui.timers import single_shot_timer

CHOICES: dict[str, tuple[tuple[str, str], ...]] = {
    "caption": (("any", "Any caption"), ("with", "Captioned"), ("without", "No caption")),
    "faces": (("any", "Any faces"), ("none", "No face"), ("one", "One face"), ("many", "Several faces")),
    "exposure": (("any", "Any exposure"), ("dark", "Dark"), ("bright", "Bright")),
    "identity": (("any", "Any identity"), ("different_person", "Different person"),
                 ("several_people", "Several people"), ("no_face", "No face of her")),
    "excluded": (("any", "Excluded or not"), ("hide", "Not excluded"), ("only", "Excluded only")),
    "below_target": (("0", "Any size"), ("512", "Below 512"), ("768", "Below 768"), ("1024", "Below 1024")),
    "sort": (("date", "Sort: import order"), ("name", "Sort: name"), ("sharpness", "Sort: sharpest"),
             ("group", "Sort: similarity group"), ("identity", "Sort: most like her"),
             ("identity-low", "Sort: least like her")),
}


class FilterBar(QWidget):
    filter_changed = Signal(object)  # ImageFilter

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.tag_split: Callable[[str], list[str]] | None = None
        self.search = QLineEdit(self)
        self.search.setPlaceholderText("Search names and captions")
        self.search.setClearButtonEnabled(True)
        self.tag = QComboBox(self)
        self.tag.setEditable(True)
        self.tag.setMinimumWidth(110)
        line = self.tag.lineEdit()
        assert line is not None  # an editable combo has a line edit
        line.setPlaceholderText("Tag")
        self.combos = {name: QComboBox(self) for name in CHOICES}
        for name, combo in self.combos.items():
            combo.setObjectName(f"filter-{name}")
            for value, title in CHOICES[name]:
                combo.addItem(title, value)
            combo.currentIndexChanged.connect(self._on_changed)
        self.near_duplicates = QCheckBox("Near-duplicates", self)
        self.blurry = QCheckBox("Blurry under", self)
        self.blur_threshold = _blur_box(self)
        self.face_score = _face_score_box(self)
        self.identity_score = _identity_score_box(self)
        self.cluster = 0  # a face cluster shown alone (the Faces panel's Show); 0: none
        self.cluster_button = _cluster_button(self)
        self.cluster_button.clicked.connect(lambda: self.set_cluster(0))
        self.count = QLabel(self)
        self._debounce = single_shot_timer(self, interval_ms=200)
        self._debounce.timeout.connect(self._on_changed)
        self.search.textChanged.connect(self._debounce.start)
        self.tag.currentTextChanged.connect(self._debounce.start)
        self.near_duplicates.toggled.connect(self._on_changed)
        self.blurry.toggled.connect(self._on_changed)
        self.blur_threshold.valueChanged.connect(self._debounce.start)
        self.face_score.valueChanged.connect(self._debounce.start)
        self.identity_score.valueChanged.connect(self._debounce.start)
        self._lay_out()

    def _lay_out(self) -> None:
        """Search, tag and the choice filters on the first row; the checks and minimum scores,
        sort and count below (the two rows fit a 1280 px window beside the sidebar)."""
        self.search.setMinimumWidth(180)
        first, second = QHBoxLayout(), QHBoxLayout()
        first.addWidget(self.search, 2)
        first.addWidget(self.tag, 1)
        for name in ("caption", "faces", "identity", "exposure", "excluded", "below_target"):
            first.addWidget(self.combos[name])
        second.addWidget(self.near_duplicates)
        second.addWidget(self.blurry)
        second.addWidget(self.blur_threshold)
        second.addWidget(self.face_score)
        second.addWidget(self.identity_score)
        second.addWidget(self.combos["sort"])
        second.addWidget(self.cluster_button)
        second.addStretch(1)
        second.addWidget(self.count)
        self.extra = second  # the page adds the size slider here
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addLayout(first)
        layout.addLayout(second)

    def set_tags(self, tags: Sequence[str]) -> None:
        current = self.tag.currentText()
        self.tag.blockSignals(True)
        self.tag.clear()
        self.tag.addItem("")
        self.tag.addItems(list(tags))
        self.tag.setCurrentText(current)
        self.tag.blockSignals(False)

    def set_value(self, name: str, value: str) -> None:
        combo = self.combos[name]
        combo.setCurrentIndex(combo.findData(value))

    def set_cluster(self, number: int) -> None:
        """Shows only the pictures with a face in face cluster ``number`` (0: every cluster)."""
        self.cluster = number
        self.cluster_button.setText(f"Cluster {number} ✕")
        self.cluster_button.setVisible(bool(number))
        self._on_changed()

    def spec(self) -> ImageFilter:
        value = {name: str(combo.currentData()) for name, combo in self.combos.items()}
        return ImageFilter(text=self.search.text().strip(), tag=self.tag.currentText().strip(),
                           caption=value["caption"], near_duplicates=self.near_duplicates.isChecked(),
                           blurry=self.blurry.isChecked(), blur_threshold=float(self.blur_threshold.value()),
                           exposure=value["exposure"],
                           faces=value["faces"], face_score=self.face_score.value(),
                           excluded=value["excluded"], identity=value["identity"],
                           identity_score=round(self.identity_score.value(), 2), cluster=self.cluster,
                           below_target=int(value["below_target"]), sort=value["sort"],
                           tag_split=self.tag_split)

    def _on_changed(self, *_: object) -> None:
        self._debounce.stop()
        self.filter_changed.emit(self.spec())


def _blur_box(parent: QWidget) -> QSpinBox:
    box = QSpinBox(parent)
    box.setRange(1, 5000)
    box.setSingleStep(10)
    box.setValue(int(BLUR_THRESHOLD))
    box.setToolTip("Sharpness score (variance of the Laplacian) under which a picture counts as blurry; "
                   "a sharp photo scores several hundred. The picture pane shows each one's score.")
    return box


def _face_score_box(parent: QWidget) -> QDoubleSpinBox:
    return _score_box(parent, "filter-face-score", (0.0, 1.0, 0.05, 2), "Face score ≥ ", "Every face found",
                      "How sure the face detector must be for a face to count in the face filter, 0 "
                      "to 1: a clear face scores 0.9 or more, a doubtful one (a face in a pattern, or "
                      "turned away) near 0.75, the least it reports. The picture pane shows each "
                      "face's score.")


def _identity_score_box(parent: QWidget) -> QDoubleSpinBox:
    return _score_box(parent, "filter-identity-score", (0.0, 1.0, 0.05, 2), "Identity ≥ ", "Identity: any",
                      "How much her face in a picture must look like her reference faces, 0 to 1: "
                      "0.5 is where the face model tells one person from another, and the same "
                      "person usually scores 0.7 or more.")


def _score_box(parent: QWidget, name: str, steps: tuple[float, float, float, int], prefix: str,
               at_zero: str, tip: str) -> QDoubleSpinBox:
    """A minimum-score box: ``steps`` is (lowest, highest, step, decimals); at its lowest it
    shows ``at_zero`` (no minimum)."""
    lowest, highest, step, decimals = steps
    box = QDoubleSpinBox(parent)
    box.setObjectName(name)
    box.setRange(lowest, highest)
    box.setSingleStep(step)
    box.setDecimals(decimals)
    box.setPrefix(prefix)
    box.setSpecialValueText(at_zero)
    box.setToolTip(tip)
    return box


def _cluster_button(parent: QWidget) -> QPushButton:
    button = QPushButton(parent)
    button.setObjectName("filter-cluster")
    button.setToolTip("Only the pictures with a face in this face cluster; click to show all")
    button.hide()
    return button
