"""The Datasets filter bar's face score and the picture pane's line about faces."""
from __future__ import annotations

import uuid

from studio.ui.widgets.filter_bar import FilterBar
from studio.ui.widgets.image_pane import _describe
from tests.engine.datasets.rows import row


def test_the_face_score_reaches_the_filter(qtbot) -> None:  # type: ignore[no-untyped-def]
    bar = FilterBar()
    qtbot.addWidget(bar)
    assert bar.spec().face_score == 0.0 and bar.face_score.text() == "Every face found"
    with qtbot.waitSignal(bar.filter_changed, timeout=5_000) as changed:
        bar.face_score.setValue(0.75)
    assert changed.args[0].face_score == 0.75


def test_the_picture_line_shows_each_faces_score_and_escapes_the_name() -> None:
    shown = row("<b>me</b>.png", id=uuid.uuid4(), analyzed=True, faces=((1, 2, 3, 4), (5, 6, 7, 8)),
                face_scores=(0.936, 0.77))
    line = _describe(shown)
    assert "2 faces (scores 0.94, 0.77)" in line and "&lt;b&gt;me&lt;/b&gt;.png" in line
