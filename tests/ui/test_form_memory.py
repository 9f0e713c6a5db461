"""The Training page opens on the form as the user last left it: preset, values, dataset."""
from __future__ import annotations

from pytestqt.qtbot import QtBot

from studio.engine.core import Studio
from studio.engine.datasets.service import create_dataset
from studio.ui.context import StudioContext, WorkspaceRef
from studio.ui.pages.training import TrainingPage
from tests.engine.training.helpers import Setup


def open_page(qtbot: QtBot, context: StudioContext, datasets: int) -> TrainingPage:
    page = TrainingPage(context)
    qtbot.addWidget(page)
    page.show()
    qtbot.waitUntil(lambda: page.form.dataset_box.count() == datasets, timeout=10_000)
    return page


def test_the_training_form_is_as_it_was_left(qtbot: QtBot, studio: Studio, context: StudioContext,
                                             setup: Setup) -> None:
    second = create_dataset(studio, setup.workspace_id, setup.influencer.id, "Second", class_token="woman")
    page = open_page(qtbot, context, datasets=2)
    form = page.form
    form.preset_box.setCurrentIndex(form.preset_box.findData("sd15-fast-test"))
    form.set_value("base_model", str(setup.base_model))
    form.set_value("max_train_steps", "77")
    form.dataset_box.setCurrentIndex(next(i for i in range(2)
                                          if form.dataset_box.itemData(i).dataset_id == second.id))
    form.changed.emit()
    context.stop()  # the app closes

    again = StudioContext(studio, WorkspaceRef.of(studio.workspace()))
    try:
        reopened = open_page(qtbot, again, datasets=2).form
        assert reopened.preset_box.currentData() == "sd15-fast-test"
        assert (reopened.value("base_model"), reopened.value("max_train_steps")) == (
            str(setup.base_model), "77")
        assert reopened.dataset_box.currentData().dataset_id == second.id
    finally:
        again.stop()
