"""The Datasets page is built in stages: the grid in the step that makes it, the rest on the next
event-loop turns, ending as the same page; a part or a dataset asked for early still works."""
from __future__ import annotations

from PySide6.QtWidgets import QApplication, QSplitter
from pytestqt.qtbot import QtBot

from studio.ui.context import StudioContext
from studio.ui.pages.datasets import DatasetsPage
from tests.ui import datasets_page_helpers as shared

dataset, drain_loaders = shared.dataset, shared.drain_loaders  # fixtures, found by name


def made(qtbot: QtBot, context: StudioContext) -> DatasetsPage:
    page = DatasetsPage(context)
    qtbot.addWidget(page)
    page.resize(1180, 720)  # where empty slots would leave the splitter 12 px off
    return page


def test_the_grid_comes_first_and_the_rest_ends_in_its_place(qtbot: QtBot, context: StudioContext,
                                                             dataset) -> None:
    page = made(qtbot, context)
    page.show()
    QApplication.sendPostedEvents()  # laid out with the first step's parts alone, as a user sees it first
    assert page.grid.model() is page.model and page.picker.isVisible()
    assert not page.stages.done and "pane" not in vars(page)  # not built in the first step
    qtbot.waitUntil(lambda: page.stages.done)
    qtbot.waitUntil(lambda: page.dataset is not None and page.dataset.id == dataset.id)
    order = [page.title, page.filters, page.import_panel, page.curation.undo_bar, page.status]
    assert [page.column.indexOf(widget) for widget in order] == sorted(page.column.indexOf(w) for w in order)
    splitter = page.panes.splitter
    assert [splitter.widget(i).isAncestorOf(part) for i, part in enumerate((page.grid, page.pane, page.side))] \
        == [True, True, True]
    at_once = made(qtbot, context)
    at_once.finish_build()  # every part in before it shows, as the page was built before stages
    at_once.show()
    qtbot.waitUntil(lambda: at_once.dataset is not None)
    assert splitter.sizes() == at_once.panes.splitter.sizes()
    assert page.filters.geometry() == at_once.filters.geometry()
    # The grid and the column share the width 3:2 beyond their smallest sizes, as when the page was
    # built in one step: not the column squeezed to its smallest by being filled in late.
    assert splitter.sizes()[1] > page.panes.right.minimumSizeHint().width()
    assert page.filters.isEnabled() and page.side.isEnabled() and page.editor.isVisible()
    assert page.size_slider.parentWidget() is not None and page.size_slider.isVisible()


def test_a_part_asked_for_before_its_turn_builds_the_page_at_once(qtbot: QtBot, context: StudioContext) -> None:
    page = made(qtbot, context)
    editor = page.editor  # as a test or an early signal would
    assert page.stages.done and not page.filters.isEnabled()  # no dataset open yet
    column = page.panes.right.findChild(QSplitter)
    assert column is not None and column.isAncestorOf(editor) and column.isAncestorOf(page.pane)
    page.show()
    assert page.undo_button.isVisible() and page.import_button.isVisible()


def test_a_dataset_chosen_while_building_opens_once_built(qtbot: QtBot, context: StudioContext, dataset) -> None:
    page = made(qtbot, context)
    page.picker.dataset_opened.emit(dataset)  # before the page's later stages have run
    assert page.dataset is None
    page.show()
    qtbot.waitUntil(lambda: page.stages.done)
    assert page.dataset is not None and page.dataset.id == dataset.id
    assert page.filters.isEnabled() and page.import_button.isEnabled()
