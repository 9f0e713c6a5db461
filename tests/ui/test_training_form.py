"""The training form as OneTrainer and kohya_ss users expect it: a plain tooltip on every field,
the form saved and loaded as a preset of one's own, Start in sight at 1280×720, and an Advanced
toggle whose label says what it does."""
from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import QPoint, QRect, Qt
from PySide6.QtWidgets import QInputDialog, QLabel
from pytestqt.qtbot import QtBot

from studio.engine.training.config import load_presets
from studio.engine.training.user_presets import load_user_presets
from studio.ui.context import StudioContext
from studio.ui.main_window import MainWindow
from studio.ui.pages.training import TrainingPage
from studio.ui.widgets.training_form import ADVANCED, BASIC, TrainingForm
from studio.ui.widgets.training_help import FIELD_HELP


@pytest.fixture
def form(qtbot: QtBot) -> TrainingForm:
    made = TrainingForm()
    qtbot.addWidget(made)
    made.set_presets(load_presets())
    made.show()
    return made


@pytest.fixture
def page(qtbot: QtBot, context: StudioContext) -> Iterator[TrainingPage]:
    made = TrainingPage(context)
    qtbot.addWidget(made)
    made.resize(1100, 700)
    made.show()
    with qtbot.waitSignal(made.user_presets_loaded, timeout=5_000):
        pass
    yield made


def test_every_field_and_its_label_has_a_plain_tooltip(form: TrainingForm) -> None:
    assert set(form.editors) == set(BASIC) | set(ADVANCED) <= set(FIELD_HELP)
    for name, editor in form.editors.items():
        assert len(editor.toolTip()) > 30 and editor.toolTip() == FIELD_HELP[name], name
    labels = [label for label in form.findChildren(QLabel) if label.text() in form.editors]
    assert len(labels) == len(form.editors)
    assert all(label.toolTip() == FIELD_HELP[label.text()] for label in labels)
    for picker in (form.dataset_box, form.preset_box, form.sd_scripts):
        assert picker.toolTip()
    assert "1e-4" in form.editors["learning_rate"].toolTip()  # typical values, not just a name


def test_advanced_toggles_its_label_and_the_settings(qtbot: QtBot, form: TrainingForm) -> None:
    assert form.advanced_button.text() == "Show advanced" and not form.advanced.isVisible()
    qtbot.mouseClick(form.advanced_button, Qt.MouseButton.LeftButton)
    assert form.advanced_button.text() == "Hide advanced" and form.advanced.isVisible()
    assert form.editors["optimizer_type"].isVisible()
    qtbot.mouseClick(form.advanced_button, Qt.MouseButton.LeftButton)
    assert form.advanced_button.text() == "Show advanced" and not form.advanced.isVisible()


def test_a_user_preset_round_trips_and_is_deleted(qtbot: QtBot, monkeypatch: pytest.MonkeyPatch,
                                                  context: StudioContext, page: TrainingPage) -> None:
    form = page.form
    form.preset_box.setCurrentIndex(form.preset_box.findData("sd15-fast-test"))
    form.set_value("network_dim", "48")
    form.set_value("learning_rate", "0.0003")
    form.set_value("flip_aug", True)
    monkeypatch.setattr(QInputDialog, "getText", lambda *args, **kwargs: ("Mira quick", True))
    with qtbot.waitSignal(page.user_presets_loaded, timeout=5_000):
        qtbot.mouseClick(form.save_preset_button, Qt.MouseButton.LeftButton)
    [stored] = load_user_presets(context.studio.paths.config_dir)
    assert stored.base == "sd15-fast-test" and stored.values["network_dim"] == "48"
    assert form.preset_box.currentText() == "Mira quick  (yours)" and form.delete_preset_button.isEnabled()
    assert page.status.text() == "Saved your preset Mira quick."

    # Another preset resets the form; choosing Mira quick brings her values back.
    form.preset_box.setCurrentIndex(form.preset_box.findData("sd15-likeness-12gb"))
    assert form.value("network_dim") != "48" and not form.delete_preset_button.isEnabled()
    form.preset_box.setCurrentIndex(form.preset_box.findText("Mira quick  (yours)"))
    assert (form.value("network_dim"), form.value("learning_rate"), form.value("flip_aug")) == ("48", "0.0003", True)
    base = form.current_preset()
    assert base is not None and base.slug == "sd15-fast-test"
    assert form.overrides(base.config)["network_dim"] == "48"  # the job records the change

    with qtbot.waitSignal(page.user_presets_loaded, timeout=5_000):
        qtbot.mouseClick(form.delete_preset_button, Qt.MouseButton.LeftButton)
    assert load_user_presets(context.studio.paths.config_dir) == []
    assert form.preset_box.findText("Mira quick  (yours)") < 0
    assert form.preset_box.currentData() == "sd15-fast-test" and form.value("network_dim") == "48"
    assert page.status.text() == "Deleted your preset Mira quick."


def test_start_is_in_sight_at_1280_by_720(qtbot: QtBot, context: StudioContext) -> None:
    window = MainWindow(context)
    qtbot.addWidget(window)
    window.resize(1280, 720)
    window.show()
    window.show_page("training")
    page = window.pages["training"]
    assert isinstance(page, TrainingPage)
    page.form.advanced_button.setChecked(True)  # the longest form
    qtbot.waitUntil(page.form.start_button.isVisible)
    button = page.form.start_button
    top_left = button.mapTo(window, QPoint(0, 0))
    inside = QRect(QPoint(0, 0), window.size())
    assert window.height() <= 720 and inside.contains(QRect(top_left, button.size()))
    assert button.visibleRegion().boundingRect().size() == button.size()  # nothing scrolled over it
    assert page.form.scroller.isAncestorOf(page.form.editors["learning_rate"])
    assert not page.form.scroller.isAncestorOf(button)  # Start stays out of the scrolling part


def _choose(form: TrainingForm, slug: str) -> None:
    form.preset_box.setCurrentIndex(form.preset_box.findData(slug))


def test_a_flux_preset_asks_for_its_model_files_and_a_musubi_one_hides_sd_scripts(form: TrainingForm) -> None:
    import uuid

    from studio.ui.models.training_data import DatasetChoice

    form.set_datasets([DatasetChoice(uuid.uuid4(), uuid.uuid4(), "Mia / main")])
    _choose(form, "sd15-likeness-12gb")
    assert form.model_files.isHidden()
    _choose(form, "flux1-dev-likeness-24gb")
    assert not form.model_files.isHidden() and list(form.model_files.fields) == ["clip_l", "t5xxl", "ae"]
    assert "t5xxl" in form.model_files.fields["t5xxl"].placeholderText()
    form.model_files.fields["t5xxl"].setText("/models/t5xxl_fp16.safetensors")
    request = form.request()
    assert request is not None and request.overrides["t5xxl"] == "/models/t5xxl_fp16.safetensors"
    assert "clip_l" not in request.overrides  # empty: the engine looks in ComfyUI's folders
    assert form.picker_form.isRowVisible(form.sd_scripts)
    _choose(form, "wan22-i2v-motion-24gb")
    assert "dit_high_noise" in form.model_files.fields
    assert not form.picker_form.isRowVisible(form.sd_scripts)  # musubi-tuner runs from its setting
    basic, base_row = form.base_model_row
    assert not basic.isRowVisible(base_row)  # its base model is the dit file among the model files
