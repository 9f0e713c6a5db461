"""The summary's identity counts and one-click buttons, and the picture pane's identity line,
face colours and reference action."""
from __future__ import annotations

import uuid

from PySide6.QtGui import QColor, QImage, QPalette

from studio.engine.datasets.filters import Identity
from studio.ui.widgets.dataset_summary import DatasetSummary, summarize
from studio.ui.widgets.image_pane import ImagePane, _describe, describe_identity
from tests.engine.datasets.rows import row

HER = Identity(score=0.83, distance=0.2, face=0, clusters=(1,))
GROUP = Identity(score=0.71, distance=0.35, face=1, flags=("several_people",), clusters=(2, 1, 3))
STRANGER = Identity(score=0.28, distance=0.86, face=0, flags=("different_person",), clusters=(2,))


def test_the_summary_counts_each_flag_left_in_and_offers_to_exclude_them(qtbot) -> None:  # type: ignore[no-untyped-def]
    rows = [row("a.png", id=uuid.uuid4(), identity=HER),
            row("b.png", id=uuid.uuid4(), identity=STRANGER),
            row("c.png", id=uuid.uuid4(), identity=STRANGER, excluded=True),  # already out
            row("d.png", id=uuid.uuid4(), identity=Identity(flags=("no_face",))),
            row("e.png", id=uuid.uuid4())]
    summary = DatasetSummary()
    qtbot.addWidget(summary)
    summary.show_summary(summarize(rows))
    assert summary.flag_counts["different_person"].text() == "1"
    assert summary.flag_counts["several_people"].text() == "0"
    assert summary.identity_note.text().startswith("4 of 5 pictures compared")
    button = summary.flag_exclude["different_person"]
    assert button.text() == "Exclude 1" and "the 1 different-person picture" in button.toolTip()
    assert not button.isHidden() and summary.flag_actions["several_people"].isHidden()
    with qtbot.waitSignal(summary.flag_exclusion_requested) as asked:
        button.click()
    assert asked.args == ["different_person"]
    with qtbot.waitSignal(summary.flag_shown) as shown:
        summary.flag_show["no_face"].click()
    assert shown.args == ["no_face"]


def test_a_summary_without_verdicts_says_what_to_do(qtbot) -> None:  # type: ignore[no-untyped-def]
    summary = DatasetSummary()
    qtbot.addWidget(summary)
    summary.show_summary(summarize([row("a.png", id=uuid.uuid4())]))
    assert "analyse the dataset" in summary.identity_note.text()


def test_the_picture_line_says_her_score_and_which_face_is_hers() -> None:
    faces = ((300, 10, 40, 40), (10, 10, 40, 40), (150, 10, 40, 40))
    assert describe_identity(row("g.png", faces=faces, identity=GROUP)) == (
        "identity 0.71 — her face is the left one of 3")
    assert describe_identity(row("g.png", faces=faces, identity=Identity(score=0.9, face=0))) == (
        "identity 0.90 — her face is the right one of 3")
    assert describe_identity(row("s.png", faces=faces[:1], identity=STRANGER)) == (
        "identity 0.28 — not her (a different person)")
    assert describe_identity(row("n.png", identity=Identity(flags=("no_face",)))) == "no face of her"
    assert "identity 0.83" in _describe(row("h.png", faces=faces[:1], identity=HER))


def test_her_face_is_drawn_in_the_accent_colour_and_others_in_grey(qtbot) -> None:  # type: ignore[no-untyped-def]
    pane = ImagePane()
    qtbot.addWidget(pane)
    pane.resize(400, 300)
    shown = row("g.png", id=uuid.uuid4(), width=400, height=200,
                faces=((20, 50, 100, 100), (250, 50, 100, 100)), identity=Identity(score=0.8, face=1))
    blank = QImage(400, 200, QImage.Format.Format_RGB32)
    blank.fill(QColor("black"))
    pane.canvas.resize(400, 200)
    pane.canvas.show_image(shown, blank)
    picture = pane.canvas.grab().toImage()
    accent = pane.canvas.palette().color(QPalette.ColorRole.Highlight)
    assert picture.pixelColor(250, 100).name() == accent.name()  # the left edge of her box
    assert picture.pixelColor(20, 100).name() == "#9aa0a6"


def test_the_reference_action_asks_to_add_then_to_remove(qtbot) -> None:  # type: ignore[no-untyped-def]
    pane = ImagePane()
    qtbot.addWidget(pane)
    shown = row("h.png", id=uuid.uuid4(), faces=((1, 1, 9, 9),), identity=HER)
    pane.show_row(shown, None)
    assert pane.reference_button.text() == "Use as reference face" and not pane.reference_button.isHidden()
    with qtbot.waitSignal(pane.reference_requested) as asked:
        pane.reference_button.click()
    assert asked.args == [shown.id, True]
    pane.set_references({shown.id})
    assert pane.reference_button.text() == "Remove from references"
    with qtbot.waitSignal(pane.reference_requested) as asked:
        pane.reference_button.click()
    assert asked.args == [shown.id, False]
    pane.show_row(row("n.png", id=uuid.uuid4(), identity=Identity(flags=("no_face",))), None)
    assert pane.reference_button.isHidden()
