"""The Qt bindings themselves: PySide6 6.12.0 dropped a reference to None on every call that
returns nothing, so a long session ended in "Fatal Python error: none_dealloc" (pinned below
6.12 in pyproject.toml; this fails if such a build comes back)."""
from __future__ import annotations

import sys

from PySide6.QtWidgets import QLabel


def test_void_calls_leave_none_alone(qtbot) -> None:  # type: ignore[no-untyped-def]
    label = QLabel()
    qtbot.addWidget(label)
    before = sys.getrefcount(None)
    for index in range(2000):
        label.setText(str(index % 2))
        label.setEnabled(True)
    assert sys.getrefcount(None) >= before - 100
