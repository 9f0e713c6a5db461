"""Recipes like ComfyUI's: readable fields with the JSON behind a toggle, "Load into form" from a
gallery picture, and a PNG the studio made dropped onto Generate loading its parameters."""
from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication

from studio.engine.comfyui.gallery import list_generated
from studio.engine.comfyui.recipe_file import read_recipe, with_recipe
from studio.engine.core import Studio
from studio.engine.db.models import Influencer
from studio.ui.context import StudioContext
from studio.ui.pages.generate import GeneratePage
from studio.ui.widgets.recipe_view import RecipeView, recipe_fields
from tests.fakes.comfyui_server import FakeComfyUI
from tests.ui.helpers import make_generated, open_page

RECIPE = {"template": "txt2img-sd15-lora", "seed": 4242, "checkpoint": "v1-5-pruned-emaonly.safetensors",
          "lora": "film_grain.safetensors", "lora_strength": 0.6, "comfyui_version": "0.3.10",
          "values": {"positive": "mira_v1, reading in a cafe", "negative": "blurry", "seed": -1,
                     "steps": 31, "cfg": 5.5, "sampler": "euler", "scheduler": "normal", "width": 640,
                     "height": 768, "lora_name": "film_grain.safetensors", "lora_strength": 0.6,
                     "denoise": 0.45, "filename_prefix": "studio"}}


@pytest.fixture
def page(qtbot, context: StudioContext, fake: FakeComfyUI, mira: Influencer) -> GeneratePage:
    page = open_page(qtbot, context)
    qtbot.waitUntil(lambda: len(page.form.options("sampler")) > 10 and page.influencer_box.count() == 2)
    return page


def test_fields_read_like_a_recipe_card() -> None:
    fields = dict(recipe_fields(RECIPE))
    assert fields["Workflow"] == "txt2img-sd15-lora" and fields["Prompt"] == "mira_v1, reading in a cafe"
    assert (fields["Seed"], fields["Steps"], fields["CFG"]) == ("4242", "31", "5.5")
    assert fields["Sampler"] == "euler · normal" and fields["Size"] == "640 × 768"
    assert fields["LoRA"] == "film_grain.safetensors at strength 0.6"
    assert "Filename prefix" not in fields and "Lora strength" not in fields


def test_the_json_hides_behind_a_toggle(qtbot) -> None:
    view = RecipeView()
    qtbot.addWidget(view)
    view.set_recipe(RECIPE)
    view.show()
    assert view.shown_fields()["Negative prompt"] == "blurry"
    assert not view.text.isVisible() and view.json_button.text() == "Show JSON"
    qtbot.mouseClick(view.json_button, Qt.MouseButton.LeftButton)
    assert view.text.isVisible() and view.json_button.text() == "Hide JSON"
    assert '"seed": 4242' in view.text.toPlainText()
    qtbot.mouseClick(view.json_button, Qt.MouseButton.LeftButton)
    assert not view.text.isVisible() and view.json_button.text() == "Show JSON"


def test_load_into_form_from_a_gallery_picture(qtbot, studio: Studio, mira: Influencer,
                                               page: GeneratePage) -> None:
    make_generated(studio, mira, [777])
    gallery = page.gallery
    page.tabs.setCurrentWidget(gallery)
    gallery.refresh()
    qtbot.waitUntil(lambda: gallery.model.rowCount() == 1, timeout=10_000)
    gallery.select_position(0)
    page.form.set_value("steps", 50)
    qtbot.mouseClick(gallery.recipe_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: gallery.recipe_dialog is not None and gallery.recipe_dialog.isVisible(),
                    timeout=5_000)
    dialog = gallery.recipe_dialog
    assert dialog is not None and dialog.view.shown_fields()["Seed"] == "777"
    with qtbot.waitSignal(page.recipes.recipe_loaded, timeout=5_000):
        qtbot.mouseClick(dialog.view.load_button, Qt.MouseButton.LeftButton)
    assert page.tabs.currentIndex() == 0 and not dialog.isVisible()
    assert page.form.value("steps") == 4 and page.form.value("lora_name") == "mira_v1.safetensors"
    assert page.seed_lock.isChecked() and page.seed.text() == "777"
    assert page.prompt.toPlainText() == "mira_v1, portrait on a rooftop"
    # The picture's own file carries the same recipe, for dropping it back in later.
    [asset] = list_generated(studio, studio.workspace().id)
    assert read_recipe(studio.asset_path(asset.storage_key))["seed"] == 777


def drop(page: GeneratePage, path: Path) -> None:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    actions, buttons = Qt.DropAction.CopyAction, Qt.MouseButton.LeftButton
    modifiers = Qt.KeyboardModifier.NoModifier
    enter = QDragEnterEvent(QPoint(20, 20), actions, mime, buttons, modifiers)
    QApplication.sendEvent(page, enter)
    assert enter.isAccepted()
    QApplication.sendEvent(page, QDropEvent(QPointF(20, 20), actions, mime, buttons, modifiers))


def test_a_dropped_studio_png_loads_its_parameters(qtbot, tmp_path: Path, page: GeneratePage) -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 80), (120, 90, 60)).save(buffer, format="PNG")
    path = tmp_path / "made-in-the-studio.png"
    path.write_bytes(with_recipe(buffer.getvalue(), RECIPE))
    with qtbot.waitSignal(page.recipes.recipe_loaded, timeout=5_000) as loaded:
        drop(page, path)
    form = page.form
    assert (form.value("steps"), form.value("cfg"), form.value("sampler")) == (31, 5.5, "euler")
    assert (form.value("width"), form.value("height")) == (640, 768)
    assert form.value("lora_strength") == pytest.approx(0.6)
    assert page.negative.toPlainText() == "blurry" and page.seed.text() == "4242"
    assert loaded.args[0] == "Loaded the recipe into Text to image (SD 1.5, LoRA). " \
                             "This workflow has no denoise: left out."
    assert page.status.text() == loaded.args[0]


@pytest.mark.parametrize(("name", "content", "reason"), [
    ("notes.txt", b"just text", "is not a PNG picture"),
    ("elsewhere.png", None, "has no studio recipe"),
])
def test_a_file_without_a_recipe_gets_a_one_line_note(qtbot, tmp_path: Path, page: GeneratePage,
                                                      name: str, content: bytes | None, reason: str) -> None:
    path = tmp_path / name
    if content is None:
        Image.new("RGB", (16, 16)).save(path)
    else:
        path.write_bytes(content)
    steps = page.form.value("steps")
    with qtbot.waitSignal(page.recipes.recipe_refused, timeout=5_000) as refused:
        drop(page, path)
    assert reason in refused.args[0] and "\n" not in refused.args[0]
    assert page.status.text() == refused.args[0] and page.form.value("steps") == steps
