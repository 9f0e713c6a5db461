"""The Influencers page's reference faces: listed with their face crops, removed, added from a
picture file, set back to automatic; a new influencer says she has none yet."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from studio.engine.core import Studio
from studio.engine.datasets.service import create_dataset
from studio.engine.db.models import DatasetImage, Influencer
from studio.engine.identity.references import add_image_reference, identity_of
from studio.engine.influencers import set_avatar
from studio.ui.context import StudioContext
from studio.ui.pages.influencers import InfluencersPage
from studio.ui.widgets.reference_faces import NONE_YET, ReferenceBox
from tests.photos import photo_image
from tests.ui.identity_helpers import add_people


@pytest.fixture
def people(studio: Studio, context: StudioContext, mira: Influencer) -> dict[str, DatasetImage]:
    return add_people(studio, create_dataset(studio, context.workspace_id, mira.id, "Portraits"))


@pytest.fixture
def box(qtbot, context: StudioContext, mira: Influencer) -> Iterator[ReferenceBox]:
    widget = ReferenceBox(context)
    qtbot.addWidget(widget)
    widget.show()
    yield widget


def test_the_page_lists_her_automatic_references_with_their_faces(qtbot, context: StudioContext,  # type: ignore[no-untyped-def]
                                                                  mira: Influencer, people) -> None:
    page = InfluencersPage(context)
    qtbot.addWidget(page)
    page.show()
    qtbot.waitUntil(lambda: page.references.list.count() == 5, timeout=10_000)
    assert page.references.line.text() == ("5 reference faces, automatic: the largest cluster of faces "
                                           "in her datasets.")
    item = page.references.list.item(0)
    assert item.text().endswith("largest face cluster") and not item.icon().isNull()
    assert not page.references.auto_button.isEnabled()  # already automatic
    page.new_influencer()
    assert page.references.line.text() == "Save the influencer first." and page.references.list.count() == 0


def test_remove_then_back_to_automatic(qtbot, studio: Studio, box: ReferenceBox, mira: Influencer,  # type: ignore[no-untyped-def]
                                       people) -> None:
    box.show_influencer(mira.id)
    qtbot.waitUntil(lambda: box.list.count() == 5, timeout=10_000)
    box.list.setCurrentRow(0)
    removed = identity_of(studio, mira.id)["references"][0]
    box.remove_button.click()
    qtbot.waitUntil(lambda: box.list.count() == 4, timeout=10_000)
    after = identity_of(studio, mira.id)
    assert not after["auto"] and removed not in after["references"]
    assert box.line.text() == "4 reference faces, chosen by you."
    box.auto_button.click()
    qtbot.waitUntil(lambda: box.list.count() == 5, timeout=10_000)
    assert identity_of(studio, mira.id)["auto"]


def test_a_picture_file_is_added_and_a_face_less_one_refused(qtbot, studio: Studio, box: ReferenceBox,  # type: ignore[no-untyped-def]
                                                             mira: Influencer, tmp_path: Path) -> None:
    box.show_influencer(mira.id)
    qtbot.waitUntil(lambda: box.line.text() == NONE_YET, timeout=10_000)
    her = tmp_path / "her.jpg"
    photo_image("astronaut").save(her)
    blank = tmp_path / "wall.png"
    photo_image("astronaut").crop((0, 0, 60, 60)).save(blank)
    box.choose_file = lambda: blank  # type: ignore[method-assign]
    box.add_button.click()
    qtbot.waitUntil(lambda: "No face found in wall.png" in box.message.text(), timeout=10_000)
    box.choose_file = lambda: her  # type: ignore[method-assign]
    box.add_button.click()
    qtbot.waitUntil(lambda: box.list.count() == 1, timeout=10_000)
    assert box.list.item(0).text() == "her.jpg\npicture file"
    assert "her.jpg added to her reference faces" in box.message.text()
    assert [r["source"] for r in identity_of(studio, mira.id)["references"]] == ["file"]


def test_references_changed_elsewhere_reach_the_box(qtbot, studio: Studio, box: ReferenceBox, mira: Influencer,  # type: ignore[no-untyped-def]
                                                    people) -> None:
    box.show_influencer(mira.id)
    qtbot.waitUntil(lambda: box.list.count() == 5, timeout=10_000)
    add_image_reference(studio, mira.id, people["other-plain"].id)  # as the command line would
    qtbot.waitUntil(lambda: box.list.count() == 1, timeout=10_000)
    assert box.line.text() == "1 reference face, chosen by you."
    assert box.list.item(0).text() == "img_005.jpg\ndataset picture"


def test_her_portrait_becomes_a_reference(qtbot, studio: Studio, context: StudioContext, box: ReferenceBox,  # type: ignore[no-untyped-def]
                                          mira: Influencer, tmp_path: Path) -> None:
    box.show_influencer(mira.id)
    box.portrait_button.click()
    qtbot.waitUntil(lambda: "She has no portrait yet" in box.message.text(), timeout=10_000)
    portrait = tmp_path / "portrait.png"
    photo_image("astronaut").save(portrait)
    set_avatar(studio, context.workspace_id, mira.id, portrait)
    box.portrait_button.click()
    qtbot.waitUntil(lambda: box.list.count() == 1, timeout=10_000)
    assert box.list.item(0).text() == "portrait\nher portrait"
    assert box.line.text() == "1 reference face, chosen by you."
