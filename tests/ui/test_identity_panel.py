"""The Faces panel lists a dataset's face clusters largest first, each with crops of its faces;
"This is her" makes a cluster her references, Show and Exclude reach the Datasets page."""
from __future__ import annotations

from collections.abc import Iterator

import pytest

from studio.engine.core import Studio
from studio.engine.datasets.service import create_dataset
from studio.engine.db.models import DatasetImage
from studio.engine.identity.references import identity_of, use_dataset_cluster
from studio.ui.context import StudioContext
from studio.ui.pages.datasets import DatasetsPage
from studio.ui.widgets.identity_panel import IdentityPanel
from tests.ui.datasets_page_helpers import dataset, drain_loaders, open_with, page  # noqa: F401
from tests.ui.identity_helpers import add_people


@pytest.fixture
def people(studio: Studio, dataset) -> dict[str, DatasetImage]:  # noqa: F811
    return add_people(studio, dataset)


@pytest.fixture
def panel(qtbot, context: StudioContext, dataset, people) -> Iterator[IdentityPanel]:  # noqa: F811
    widget = IdentityPanel(context, dataset)
    qtbot.addWidget(widget)
    widget.show()
    qtbot.waitUntil(lambda: len(widget.rows) == 3, timeout=10_000)
    yield widget


def test_clusters_are_listed_largest_first_with_their_faces(panel: IdentityPanel, people) -> None:
    sizes = [row.view.size for row in panel.rows]
    assert sizes == [5, 3, 1]  # her four pictures and the group; the other's two and the group; one stranger
    her, other, _stranger = (row.view for row in panel.rows)
    assert set(her.image_ids) == {people[f"her-{k}"].id for k in ("plain", "flip", "dark", "bright")} | {
        people["group"].id}
    assert set(other.image_ids) == {people["other-plain"].id, people["other-flip"].id, people["group"].id}
    assert all(crop is not None and crop.width() > 0 for crop in her.crops)
    assert her.references and not other.references
    assert "her reference faces" in panel.rows[0].title.text()
    assert panel.heading.text().startswith("3 clusters of faces, largest first")


def test_this_is_her_makes_the_cluster_her_references(qtbot, studio: Studio, panel: IdentityPanel,  # type: ignore[no-untyped-def]
                                                      dataset, people) -> None:  # noqa: F811
    with qtbot.waitSignal(panel.references_changed, timeout=10_000):
        panel.rows[1].her_button.click()
    identity = identity_of(studio, dataset.influencer_id)
    chosen = {reference["image_id"] for reference in identity["references"]}
    assert not identity["auto"]
    assert chosen == {str(people[k].id) for k in ("other-plain", "other-flip", "group")}
    assert "Cluster 2 is her now: 3 reference faces" in panel.message.text()
    with studio.db.session() as session:
        verdicts = {name: session.get(DatasetImage, image.id).identity for name, image in people.items()}
    assert "different_person" in verdicts["her-plain"]["flags"]
    assert "different_person" not in verdicts["other-plain"]["flags"]


def test_show_and_exclude_reach_the_page(qtbot, studio: Studio, page: DatasetsPage, people) -> None:  # noqa: F811
    open_with(qtbot, page, len(people))
    page.summary.faces_button.click()
    panel = page.curation.identity.panel
    assert panel is not None
    qtbot.waitUntil(lambda: len(panel.rows) == 3, timeout=10_000)
    panel.rows[1].show_button.click()
    assert {r.id for r in page.model.shown_rows()} == set(panel.rows[1].view.image_ids)
    assert page.filters.cluster_button.isVisibleTo(page.filters)
    panel.rows[2].exclude_button.click()  # the stranger alone in the group picture
    qtbot.waitUntil(lambda: page.model.row(people["group"].id).excluded, timeout=10_000)
    assert [r.id for r in page.model.all_rows() if r.excluded] == [people["group"].id]
    assert page.curation.undo_bar.label.text() == "1 picture excluded."
    page.curation.undo_bar.undo_button.click()
    qtbot.waitUntil(lambda: not page.model.row(people["group"].id).excluded, timeout=10_000)


def test_references_chosen_elsewhere_reach_the_open_panel(qtbot, studio: Studio, panel: IdentityPanel,  # type: ignore[no-untyped-def]
                                                          dataset) -> None:  # noqa: F811
    use_dataset_cluster(studio, dataset.influencer_id, dataset.id, number=3)  # as the command line would
    qtbot.waitUntil(lambda: len(panel.rows) == 3 and panel.rows[2].view.references == 1, timeout=10_000)
    assert [row.view.references for row in panel.rows] == [0, 0, 1]
    assert "her reference faces" in panel.rows[2].title.text()


def test_another_dataset_drops_the_cluster_shown_and_closes_the_panel(qtbot, studio: Studio, context,  # type: ignore[no-untyped-def]
                                                                      page: DatasetsPage, people) -> None:  # noqa: F811
    open_with(qtbot, page, len(people))
    page.summary.faces_button.click()
    panel = page.curation.identity.panel
    qtbot.waitUntil(lambda: len(panel.rows) == 3, timeout=10_000)
    panel.rows[0].show_button.click()
    assert page.filters.cluster == 1 and page.model.rowCount() == 5
    other = create_dataset(studio, context.workspace_id, page.dataset.influencer_id, "Beach")
    page.picker.dataset_opened.emit(other)
    assert page.filters.cluster == 0 and not panel.isVisible()
