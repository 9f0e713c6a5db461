"""The Datasets page's identity actions on real faces: Show and one-click Exclude per flag (and
Undo), the picture pane's identity line and reference face."""
from __future__ import annotations

import pytest

from studio.engine.core import Studio
from studio.engine.db.models import DatasetImage
from studio.engine.identity.references import identity_of
from studio.ui.pages.datasets import DatasetsPage
from tests.ui.datasets_page_helpers import dataset, drain_loaders, open_with, page  # noqa: F401
from tests.ui.identity_helpers import add_people


@pytest.fixture
def people(studio: Studio, dataset) -> dict[str, DatasetImage]:  # noqa: F811
    return add_people(studio, dataset)


def excluded(page: DatasetsPage) -> set:  # noqa: F811
    return {r.id for r in page.model.all_rows() if r.excluded}


def test_show_and_exclude_the_different_person_pictures_then_undo(qtbot, page: DatasetsPage, people) -> None:  # noqa: F811
    open_with(qtbot, page, len(people))
    others = {people["other-plain"].id, people["other-flip"].id}
    # The first page shows the rows before the whole read sums them up.
    qtbot.waitUntil(lambda: page.summary.flag_counts["different_person"].text() == "2", timeout=10_000)
    assert page.summary.flag_counts["several_people"].text() == "1"
    assert page.summary.flag_counts["no_face"].text() == "1"
    page.summary.flag_show["different_person"].click()
    assert {r.id for r in page.model.shown_rows()} == others
    page.filters.set_value("identity", "any")

    page.summary.flag_exclude["different_person"].click()
    qtbot.waitUntil(lambda: excluded(page) == others, timeout=10_000)
    bar = page.curation.undo_bar
    assert bar.isVisibleTo(page) and bar.label.text() == "2 different-person pictures excluded."
    qtbot.waitUntil(page.summary.flag_actions["different_person"].isHidden, timeout=10_000)
    bar.undo_button.click()  # the bar brings back exactly these
    qtbot.waitUntil(lambda: not excluded(page), timeout=10_000)

    page.summary.flag_exclude["different_person"].click()  # and the history's Undo takes the step back
    qtbot.waitUntil(lambda: excluded(page) == others, timeout=10_000)
    qtbot.waitUntil(page.undo_button.isEnabled, timeout=10_000)
    page.undo()
    qtbot.waitUntil(lambda: not excluded(page), timeout=10_000)


def test_the_pane_shows_her_score_and_makes_a_picture_a_reference(qtbot, studio: Studio, page: DatasetsPage,  # noqa: F811
                                                                  people) -> None:
    open_with(qtbot, page, len(people))
    page.select_position(page.model.position(people["group"].id))
    assert "her face is the left one of 3" in page.pane.info.text()
    page.select_position(page.model.position(people["her-dark"].id))
    assert "identity 0." in page.pane.info.text()
    button = page.pane.reference_button
    qtbot.waitUntil(lambda: button.text() == "Remove from references", timeout=10_000)  # auto: all of her
    page.select_position(page.model.position(people["other-plain"].id))
    assert "not her (a different person)" in page.pane.info.text()
    assert button.text() == "Use as reference face"
    button.click()  # she is someone else from now on: the choice replaces the automatic references
    qtbot.waitUntil(lambda: button.text() == "Remove from references", timeout=10_000)
    identity = identity_of(studio, page.dataset.influencer_id)
    assert not identity["auto"]
    assert [r["image_id"] for r in identity["references"]] == [str(people["other-plain"].id)]
    qtbot.waitUntil(lambda: "not her" not in page.pane.info.text(), timeout=10_000)  # judged again
    button.click()
    qtbot.waitUntil(lambda: button.text() == "Use as reference face", timeout=10_000)
    assert identity_of(studio, page.dataset.influencer_id)["references"] == []
