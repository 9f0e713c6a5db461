"""The Gallery tab over pictures made by real generate-image jobs against the fake ComfyUI."""
from __future__ import annotations

import json

import pytest
from PIL import Image
from PySide6.QtCore import Qt

from studio.engine.comfyui.gallery import GalleryFilter, gallery_rows, list_generated
from studio.engine.core import Studio
from studio.engine.db.models import Influencer
from studio.ui.context import StudioContext
from studio.ui.pages.generate import GeneratePage
from studio.ui.widgets.generate_gallery import GalleryTab, index_of
from tests.ui.helpers import GENERATED, make_generated, open_page, run_next


@pytest.fixture
def made(studio: Studio, fake, mira: Influencer) -> list:
    return make_generated(studio, mira, [111, 222])


@pytest.fixture
def page(qtbot, context: StudioContext, made: list) -> GeneratePage:
    page = open_page(qtbot, context)
    page.tabs.setCurrentWidget(page.gallery)
    qtbot.waitUntil(lambda: page.gallery.model.rowCount() == 2, timeout=10_000)
    return page


def select_seed(qtbot, gallery: GalleryTab, seed: int) -> None:
    position = next(p for p, r in enumerate(gallery.model.rows()) if r.seed == seed)
    gallery.select_position(position)
    qtbot.waitUntil(lambda: gallery.viewer.canvas.image is not None, timeout=10_000)
    assert f"seed {seed}" in gallery.viewer.caption.text()


def test_the_grid_lists_every_generated_image_newest_first(qtbot, page: GeneratePage) -> None:
    rows = page.gallery.model.rows()
    assert [r.seed for r in rows] == [222, 111]
    assert all(r.lora == "mira_v1.safetensors" and r.template == "txt2img-sd15-lora" for r in rows)
    assert page.gallery.count.text() == "2 pictures"
    qtbot.waitUntil(lambda: all(page.thumbnails.get(r.sha256, 256) is not None for r in rows),
                    timeout=10_000)


def test_rating_and_favourite_are_saved(qtbot, studio: Studio, page: GeneratePage) -> None:
    gallery = page.gallery
    select_seed(qtbot, gallery, 111)
    qtbot.mouseClick(gallery.viewer.stars[3], Qt.MouseButton.LeftButton)  # four stars
    qtbot.waitUntil(lambda: gallery.current_row().rating == 4, timeout=5_000)
    qtbot.mouseClick(gallery.viewer.heart, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: gallery.current_row().favourite, timeout=5_000)
    assert gallery.viewer.stars[3].text() == "★" and gallery.viewer.stars[4].text() == "☆"
    stored = {a.meta["recipe"]["seed"]: a.meta for a in list_generated(studio, studio.workspace().id)}
    assert (stored[111]["rating"], stored[111]["favourite"]) == (4, True)
    assert (stored[222]["rating"], stored[222]["favourite"]) == (0, False)

    # The filters read them back from the database.
    gallery.favourites.setChecked(True)
    qtbot.waitUntil(lambda: [r.seed for r in gallery.model.rows()] == [111], timeout=5_000)
    gallery.favourites.setChecked(False)
    gallery.rating_box.setCurrentIndex(gallery.rating_box.findData(5))
    gallery.rating_box.activated.emit(gallery.rating_box.currentIndex())
    qtbot.waitUntil(lambda: gallery.model.rowCount() == 0, timeout=5_000)
    assert not gallery.use_button.isEnabled()


def pick(box, data) -> None:
    box.setCurrentIndex(index_of(box, data))
    box.activated.emit(box.currentIndex())


def test_filters_by_influencer_lora_date_and_job(qtbot, page: GeneratePage, made: list,
                                                 mira: Influencer) -> None:
    gallery = page.gallery
    qtbot.waitUntil(lambda: index_of(gallery.influencer_box, mira.id) >= 0, timeout=5_000)
    pick(gallery.influencer_box, mira.id)
    qtbot.waitUntil(lambda: gallery.current_filter().influencer_id == mira.id)
    gallery.since_box.setCurrentIndex(1)  # the last 24 hours
    gallery.since_box.activated.emit(1)
    qtbot.waitUntil(lambda: gallery.current_filter().since is not None)
    qtbot.waitUntil(lambda: gallery.lora_box.findData("mira_v1.safetensors") >= 0, timeout=5_000)
    pick(gallery.lora_box, "mira_v1.safetensors")
    with qtbot.waitSignal(gallery.rows_loaded, timeout=5_000):
        pass
    assert gallery.model.rowCount() == 2
    gallery.show_job(made[0].id)
    qtbot.waitUntil(lambda: [r.seed for r in gallery.model.rows()] == [111], timeout=5_000)
    assert gallery.job_box.currentData() == made[0].id


def test_other_loras_and_influencers_are_filtered_out(studio: Studio, made: list) -> None:
    workspace_id = studio.workspace().id
    def rows(**narrow: object) -> list:
        return gallery_rows(studio, workspace_id=workspace_id, spec=GalleryFilter(**narrow))  # type: ignore[arg-type]
    assert len(rows(lora="mira_v1.safetensors")) == 2
    assert rows(lora="film_grain.safetensors") == []
    assert rows(influencer_id=made[0].id) == []


def test_rerun_queues_a_job_with_a_new_seed(qtbot, studio: Studio, page: GeneratePage) -> None:
    gallery = page.gallery
    select_seed(qtbot, gallery, 111)
    with qtbot.waitSignal(page.jobs_submitted, timeout=10_000) as submitted:
        qtbot.mouseClick(gallery.rerun_button, Qt.MouseButton.LeftButton)
    [job_id] = submitted.args[0]
    job = studio.jobs.get(studio.workspace().id, job_id)
    assert job.payload["values"]["seed"] != 111
    assert job.payload["values"]["positive"] == GENERATED["positive"]
    assert page.watcher.active_ids() == [job_id]
    run_next(studio)
    qtbot.waitUntil(lambda: page.results.rowCount() == 1, timeout=10_000)
    qtbot.waitUntil(lambda: gallery.model.rowCount() == 3, timeout=10_000)


def test_use_as_input_switches_to_image_to_image(qtbot, studio: Studio, page: GeneratePage) -> None:
    gallery = page.gallery
    select_seed(qtbot, gallery, 222)
    row = gallery.current_row()
    qtbot.mouseClick(gallery.use_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.tabs.currentIndex() == 0, timeout=5_000)
    assert page.current_template().kind == "img2img"
    assert page.form.value("input_image") == str(studio.asset_path(row.storage_key))
    assert page.request_values()["input_image"] == str(studio.asset_path(row.storage_key))


def test_show_recipe_opens_the_json_with_the_seed(qtbot, page: GeneratePage) -> None:
    gallery = page.gallery
    select_seed(qtbot, gallery, 222)
    qtbot.mouseClick(gallery.recipe_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: gallery.recipe_dialog is not None and gallery.recipe_dialog.isVisible(),
                    timeout=5_000)
    text = gallery.recipe_dialog.text.toPlainText()
    assert gallery.recipe_dialog.text.isReadOnly()
    recipe = json.loads(text)
    assert recipe["seed"] == 222 and recipe["template"] == "txt2img-sd15-lora"
    assert '\n  "seed": 222' in text  # pretty-printed


def test_move_to_trash_takes_it_out_of_the_gallery(qtbot, studio: Studio, page: GeneratePage) -> None:
    gallery = page.gallery
    select_seed(qtbot, gallery, 111)
    qtbot.mouseClick(gallery.trash_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: [r.seed for r in gallery.model.rows()] == [222], timeout=5_000)
    assert "moved to the trash" in page.status.text()
    assert len(list_generated(studio, studio.workspace().id)) == 1


def test_export_a_picture_for_a_platform(qtbot, tmp_path, page: GeneratePage) -> None:
    gallery = page.gallery
    select_seed(qtbot, gallery, 111)
    with qtbot.waitSignal(gallery.export_dialog_shown, timeout=10_000):
        qtbot.mouseClick(gallery.export_button, Qt.MouseButton.LeftButton)
    dialog = gallery.export_dialog
    assert dialog.preset_box.currentText().startswith("Instagram feed (4:5)")
    dialog.folder.setText(str(tmp_path / "exports"))
    dialog.fit_box.setCurrentIndex(dialog.fit_box.findData("blur"))
    with qtbot.waitSignal(dialog.exported, timeout=20_000) as done:
        qtbot.mouseClick(dialog.export_button, Qt.MouseButton.LeftButton)
    result = done.args[0]
    assert result.path.parent == tmp_path / "exports" and result.path.suffix == ".jpg"
    with Image.open(result.path) as exported:
        assert exported.size == (1080, 1350) and "comment" not in exported.info
    assert dialog.show_button.isEnabled() and "Saved " in dialog.status.text()


def focus_grid(qtbot, page: GeneratePage) -> None:
    page.activateWindow()
    qtbot.waitActive(page)
    page.gallery.grid.setFocus()
    assert page.gallery.grid.hasFocus()


def test_number_keys_rate_the_selected_pictures_and_leave_the_heart(qtbot, studio: Studio,
                                                                    page: GeneratePage) -> None:
    gallery = page.gallery
    select_seed(qtbot, gallery, 111)
    qtbot.mouseClick(gallery.viewer.heart, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: gallery.current_row().favourite, timeout=5_000)
    gallery.viewer.layout().activate()
    heart_at = gallery.viewer.heart.geometry()
    focus_grid(qtbot, page)
    qtbot.keyClick(gallery.grid, Qt.Key.Key_3)
    qtbot.waitUntil(lambda: gallery.current_row().rating == 3, timeout=5_000)
    assert gallery.current_row().favourite and gallery.viewer.heart.isChecked()
    assert [b.text() for b in gallery.viewer.stars] == ["★"] * 3 + ["☆"] * 2
    gallery.viewer.layout().activate()
    assert gallery.viewer.heart.geometry() == heart_at  # lit stars do not push the heart along
    stored = {a.meta["recipe"]["seed"]: a.meta for a in list_generated(studio, studio.workspace().id)}
    assert (stored[111]["rating"], stored[111]["favourite"]) == (3, True)

    gallery.grid.selectAll()  # several pictures: the keys rate them all
    qtbot.keyClick(gallery.grid, Qt.Key.Key_5)
    qtbot.waitUntil(lambda: [r.rating for r in gallery.model.rows()] == [5, 5], timeout=5_000)
    qtbot.keyClick(gallery.grid, Qt.Key.Key_0)
    qtbot.waitUntil(lambda: [r.rating for r in gallery.model.rows()] == [0, 0], timeout=5_000)
    stored = {a.meta["recipe"]["seed"]: a.meta for a in list_generated(studio, studio.workspace().id)}
    assert {s: (m["rating"], m.get("favourite", False)) for s, m in stored.items()} == {
        111: (0, True), 222: (0, False)}


def test_delete_moves_to_the_trash_and_undo_brings_it_back(qtbot, studio: Studio,
                                                         page: GeneratePage) -> None:
    gallery = page.gallery
    select_seed(qtbot, gallery, 111)
    focus_grid(qtbot, page)
    qtbot.keyClick(gallery.grid, Qt.Key.Key_Delete)
    qtbot.waitUntil(lambda: [r.seed for r in gallery.model.rows()] == [222], timeout=5_000)
    assert len(list_generated(studio, studio.workspace().id)) == 1
    assert gallery.undo_bar.isVisible() and "moved to the trash" in gallery.undo_bar.label.text()
    qtbot.mouseClick(gallery.undo_bar.undo_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: sorted(r.seed for r in gallery.model.rows()) == [111, 222],
                    timeout=5_000)
    assert len(list_generated(studio, studio.workspace().id)) == 2
    assert not gallery.undo_bar.isVisible() and page.status.text() == "Brought back 1 picture."
