"""The Datasets page opens on the dataset last open (remembered in the UI state), or the first
one when that one is gone."""
from __future__ import annotations

from pytestqt.qtbot import QtBot

from studio.engine.core import Studio
from studio.engine.datasets.service import create_dataset
from studio.engine.influencers import Persona, create_influencer
from studio.ui.context import StudioContext, WorkspaceRef
from studio.ui.pages.dataset_picker import DatasetPicker


def opened(qtbot: QtBot, context: StudioContext) -> DatasetPicker:
    picker = DatasetPicker(context)
    qtbot.addWidget(picker)
    picker.reload_influencers()
    qtbot.waitUntil(lambda: picker.influencer_box.count() == 2, timeout=10_000)
    return picker


def test_the_picker_opens_on_the_dataset_last_open(qtbot: QtBot, studio: Studio,
                                                    context: StudioContext) -> None:
    workspace_id = context.workspace_id
    create_influencer(studio, workspace_id, Persona(name="Ada"))
    zoe = create_influencer(studio, workspace_id, Persona(name="Zoe"))
    create_dataset(studio, workspace_id, zoe.id, "First", class_token="woman")
    last = create_dataset(studio, workspace_id, zoe.id, "Second", class_token="woman")
    picker = opened(qtbot, context)
    assert picker.influencer_box.currentText() == "Ada"  # nothing remembered yet: the first
    picker.influencer_box.setCurrentIndex(picker.influencer_box.findText("Zoe"))
    picker.influencer_box.activated.emit(picker.influencer_box.currentIndex())
    qtbot.waitUntil(lambda: picker.dataset_box.count() == 2)
    picker.dataset_box.setCurrentIndex(picker.dataset_box.findText("Second"))
    picker.dataset_box.activated.emit(picker.dataset_box.currentIndex())
    assert picker.open_id == last.id
    context.stop()  # the app closes

    again = StudioContext(studio, WorkspaceRef.of(studio.workspace()))
    try:
        reopened = opened(qtbot, again)
        qtbot.waitUntil(lambda: reopened.open_id is not None, timeout=10_000)
        assert reopened.open_id == last.id and reopened.influencer_box.currentText() == "Zoe"
    finally:
        again.stop()
