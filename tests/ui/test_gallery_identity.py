"""The Gallery tab by likeness: her identity score on each picture, in the viewer and the recipe,
a filter for the pictures that look like her and an order that puts them first."""
from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from studio.engine.core import Studio
from studio.engine.db.models import Influencer
from studio.ui.context import StudioContext
from studio.ui.pages.generate import GeneratePage
from studio.ui.widgets.generate_gallery import GalleryTab, index_of
from tests.engine.comfyui.identity_helpers import by_seed, set_references
from tests.fakes.comfyui_server import FakeComfyUI
from tests.ui.helpers import make_generated, open_page

PEOPLE = {111: "astronaut", 222: "hopper", 333: "luis"}


@pytest.fixture
def page(qtbot, studio: Studio, context: StudioContext, fake: FakeComfyUI, mira: Influencer) -> GeneratePage:
    set_references(studio, mira, "astronaut")
    fake.picture_for = by_seed(PEOPLE)
    make_generated(studio, mira, list(PEOPLE))
    page = open_page(qtbot, context)
    page.tabs.setCurrentWidget(page.gallery)
    qtbot.waitUntil(lambda: page.gallery.model.rowCount() == 3, timeout=10_000)
    return page


def pick(qtbot, box, data, gallery: GalleryTab, seeds: list[int]) -> None:
    box.setCurrentIndex(index_of(box, data))
    box.activated.emit(box.currentIndex())
    qtbot.waitUntil(lambda: [r.seed for r in gallery.model.rows()] == seeds, timeout=5_000)


def test_only_her_pictures_and_most_like_her_first(qtbot, page: GeneratePage) -> None:
    gallery = page.gallery
    scores = {r.seed: r.identity for r in gallery.model.rows()}
    assert scores[111] >= 0.5 > scores[222] > scores[333]
    pick(qtbot, gallery.likeness_box, 0.5, gallery, [111])
    assert gallery.likeness_box.currentText() == "Looks like her"
    assert gallery.count.text() == "1 picture"
    pick(qtbot, gallery.likeness_box, None, gallery, [333, 222, 111])  # newest first again
    pick(qtbot, gallery.order_box, "identity", gallery, [111, 222, 333])
    assert gallery.current_filter().sort == "identity"


def test_the_viewer_tooltip_and_recipe_show_the_score(qtbot, page: GeneratePage) -> None:
    gallery = page.gallery
    position = next(p for p, r in enumerate(gallery.model.rows()) if r.seed == 222)
    gallery.select_position(position)
    score = gallery.current_row().identity
    qtbot.waitUntil(lambda: f"identity {score:.2f}" in gallery.viewer.caption.text(), timeout=5_000)
    tip = gallery.model.data(gallery.model.index(position), Qt.ItemDataRole.ToolTipRole)
    assert f"identity {score:.2f}" in tip
    qtbot.mouseClick(gallery.recipe_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: gallery.recipe_dialog is not None and gallery.recipe_dialog.isVisible(),
                    timeout=5_000)
    shown = gallery.recipe_dialog.view.shown_fields()
    assert shown["Likeness"] == f"identity {score:.2f} · does not look like her"
    assert shown["Seed"] == "222"


def test_the_likeness_line_says_why_there_is_no_score() -> None:
    from studio.ui.widgets.recipe_view import identity_text
    assert identity_text({"score": 0.5, "faces": 1}) == "identity 0.50 · looks like her"
    assert identity_text({"score": None, "note": "no face found"}) == "not scored: no face found"
    assert identity_text(None) == ""


def test_score_again_queues_her_pictures_for_scoring(qtbot, studio: Studio, page: GeneratePage,
                                                     mira: Influencer) -> None:
    gallery = page.gallery
    assert not gallery.rescore_button.isEnabled()  # all influencers: whose references?
    qtbot.waitUntil(lambda: index_of(gallery.influencer_box, mira.id) >= 0, timeout=5_000)
    pick(qtbot, gallery.influencer_box, mira.id, gallery, [333, 222, 111])
    assert gallery.rescore_button.isEnabled()
    with qtbot.waitSignal(gallery.message_shown, timeout=5_000) as shown:
        qtbot.mouseClick(gallery.rescore_button, Qt.MouseButton.LeftButton)
    assert shown.args == ["Mira: score her pictures against her references: queued."]
    [job] = [j for j in studio.jobs.list(studio.workspace().id) if j.type == "score-pictures"]
    assert job.payload["influencer_id"] == str(mira.id) and job.status == "pending"
