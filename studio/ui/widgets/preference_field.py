"""One setting on the preferences page: its editor (a checkbox, a list, a number field with its
unit, a text field with Browse for paths), a one-line description, and the reason a value is
refused, in red, right under it."""
from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import (
    QAbstractScrollArea,
    QAbstractSpinBox,
    QApplication,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from studio.ui.pages.settings_fields import FieldSpec, Kind, problem_with
from studio.ui.theme_style import show_in_tone

Editor = QCheckBox | QComboBox | QSpinBox | QDoubleSpinBox | QLineEdit
INT_LIMIT = 2**31 - 1  # QSpinBox holds a C int
FLOAT_LIMIT = 1e9
FLOAT_DECIMALS = 1
SHORT_WIDTH = 200


class PreferenceField(QWidget):
    edited = Signal(str)  # the setting's key, on every change the user makes

    def __init__(self, spec: FieldSpec, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.spec = spec
        self.editor: Editor = _make_editor(spec, self)
        self.editor.setObjectName(spec.key)
        self.browse_button: QPushButton | None = None
        self.description = _small_label(spec.description, self)
        self.error = QLabel(self)
        show_in_tone(self.error, "error")
        self.error.setWordWrap(True)
        self.error.hide()
        self._loaded: object = None
        self._build()
        self._connect()

    def _build(self) -> None:
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        wide = isinstance(self.editor, QLineEdit) and not self.spec.short
        if isinstance(self.editor, QLineEdit) and self.spec.short:
            self.editor.setMaximumWidth(SHORT_WIDTH)
        row.addWidget(self.editor, 1 if wide else 0)
        if self.spec.kind in (Kind.FOLDER, Kind.FILE) and not self.spec.read_only:
            self.browse_button = QPushButton("Browse…", self)
            self.browse_button.setToolTip(f"Choose the {self.spec.label.lower()}")
            self.browse_button.clicked.connect(self._on_browse_clicked)
            row.addWidget(self.browse_button)
        if not wide:
            row.addStretch(1)
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(2)
        column.addLayout(row)
        column.addWidget(self.description)
        column.addWidget(self.error)

    def _connect(self) -> None:
        editor = self.editor
        if isinstance(editor, QAbstractSpinBox | QComboBox):
            editor.setFocusPolicy(Qt.FocusPolicy.StrongFocus)  # not focused by the wheel either
            editor.installEventFilter(self)
        if isinstance(editor, QCheckBox):
            editor.toggled.connect(self._on_changed)
        elif isinstance(editor, QComboBox):
            editor.currentTextChanged.connect(self._on_changed)
        elif isinstance(editor, QLineEdit):
            editor.textChanged.connect(self._on_changed)
        else:  # typed text that is not a number yet changes no value; it must still be checked
            editor.lineEdit().textChanged.connect(self._on_changed)
            editor.valueChanged.connect(self._on_changed)  # set by code: the text changes silently

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        """The wheel scrolls the page over a number or a list it has not clicked into, instead
        of changing a value the user never meant to touch."""
        if event.type() == QEvent.Type.Wheel and watched is self.editor and not self.editor.hasFocus():
            area = _scroll_area(self)
            if area is not None:
                QApplication.sendEvent(area.verticalScrollBar(), event)
            return True
        return super().eventFilter(watched, event)

    def label_text(self) -> str:
        """The form's label; a checkbox carries its own."""
        return "" if isinstance(self.editor, QCheckBox) else self.spec.label

    # Values ----------------------------------------------------------------------------------

    def value(self) -> object:
        editor = self.editor
        if isinstance(editor, QCheckBox):
            return editor.isChecked()
        if isinstance(editor, QComboBox):
            return editor.currentText()
        if isinstance(editor, QLineEdit):
            return editor.text()
        return editor.value()

    def set_value(self, value: object) -> None:
        """Shows ``value`` as the saved one: the field is unmodified afterwards."""
        self.show_value(value)
        self._loaded = self.value()  # as shown: a float rounded to the field's decimals is no edit
        self.show_problem("")

    def show_value(self, value: object) -> None:
        """Puts ``value`` in the editor, as if typed: an edit when it differs from the saved one."""
        editor = self.editor
        if isinstance(editor, QCheckBox):
            editor.setChecked(bool(value))
        elif isinstance(editor, QComboBox):
            editor.setCurrentText(str(value))
        elif isinstance(editor, QLineEdit):
            editor.setText(str(value))
        elif isinstance(editor, QSpinBox) and isinstance(value, int):
            editor.setValue(value)
        elif isinstance(editor, QDoubleSpinBox) and isinstance(value, int | float):
            editor.setValue(float(value))

    def is_modified(self) -> bool:
        return not self._typed_ok() or self.value() != self._loaded

    def problem(self) -> str:
        """Why the value cannot be saved, "" when it can."""
        if not self._typed_ok():
            return self.spec.range_text or "Not a number."
        return problem_with(self.spec.key, self.value())

    def show_problem(self, text: str) -> None:
        self.error.setText(text)
        self.error.setVisible(bool(text))

    def _typed_ok(self) -> bool:
        editor = self.editor
        return not isinstance(editor, QAbstractSpinBox) or editor.hasAcceptableInput()

    def _on_changed(self, *_: object) -> None:
        self.show_problem(self.problem())
        self.edited.emit(self.spec.key)

    def _on_browse_clicked(self) -> None:
        editor = self.editor
        assert isinstance(editor, QLineEdit)
        title = f"Choose the {self.spec.label.lower()}"
        if self.spec.kind is Kind.FOLDER:
            chosen = QFileDialog.getExistingDirectory(self, title, editor.text())
        else:
            chosen = QFileDialog.getOpenFileName(self, title, editor.text())[0]
        if chosen:
            editor.setText(chosen)


def _make_editor(spec: FieldSpec, parent: QWidget) -> Editor:
    if spec.kind is Kind.CHECK:
        return QCheckBox(spec.label, parent)
    if spec.kind is Kind.CHOICE:
        combo = QComboBox(parent)
        combo.addItems(list(spec.choices))
        return combo
    if spec.kind is Kind.INT:
        return _int_box(spec, parent)
    if spec.kind is Kind.FLOAT:
        return _float_box(spec, parent)
    line = QLineEdit(parent)
    line.setPlaceholderText(spec.placeholder)
    line.setReadOnly(spec.read_only)
    if spec.read_only:  # shown as text, so it does not invite typing
        line.setFrame(False)
        line.setStyleSheet("QLineEdit { background: transparent; }")
    return line


def _int_box(spec: FieldSpec, parent: QWidget) -> QSpinBox:
    box = QSpinBox(parent)
    low = -INT_LIMIT if spec.low is None else int(spec.low) + (1 if spec.low_excluded else 0)
    box.setRange(low, INT_LIMIT if spec.high is None else int(spec.high))
    box.setSuffix(spec.unit)
    box.setMinimumWidth(120)
    return box


def _float_box(spec: FieldSpec, parent: QWidget) -> QDoubleSpinBox:
    box = QDoubleSpinBox(parent)
    box.setDecimals(FLOAT_DECIMALS)
    step = 10.0 ** -FLOAT_DECIMALS
    low = -FLOAT_LIMIT if spec.low is None else spec.low + (step if spec.low_excluded else 0.0)
    box.setRange(low, FLOAT_LIMIT if spec.high is None else spec.high)
    box.setSuffix(spec.unit)
    box.setMinimumWidth(120)
    return box


def _scroll_area(widget: QWidget) -> QAbstractScrollArea | None:
    parent = widget.parentWidget()
    while parent is not None and not isinstance(parent, QAbstractScrollArea):
        parent = parent.parentWidget()
    return parent


def _small_label(text: str, parent: QWidget) -> QLabel:
    """A description: smaller, in the theme's dimmed text colour, wrapped rather than widening the page."""
    label = QLabel(text, parent)
    label.setWordWrap(True)
    label.setForegroundRole(QPalette.ColorRole.PlaceholderText)
    font = label.font()
    font.setPointSizeF(font.pointSizeF() * 0.9)
    label.setFont(font)
    return label
