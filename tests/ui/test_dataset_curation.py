"""Curation on the Datasets page driven from the keyboard and the tag panel, against the real
engine: keys move the selection, X excludes and brings back, tags are renamed and deleted across
the dataset with undo, and an export with empty captions asks first."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QItemSelectionModel, Qt
from PySide6.QtWidgets import QDialog

from studio.engine.core import Studio
from studio.engine.datasets.importer import import_paths
from studio.ui.pages.dataset_curation import EmptyCaptionWarning
from studio.ui.pages.datasets import DatasetsPage
from tests.ui import datasets_page_helpers as shared
from tests.ui.datasets_page_helpers import images, open_with
from tests.ui.helpers import make_images

dataset, page, drain_loaders = shared.dataset, shared.page, shared.drain_loaders  # fixtures, found by name
CAPTIONS = ("mira_v1, red dress, beach", "mira_v1, red dress", "", "mira_v1, city")


def fill(qtbot, tmp_path: Path, studio: Studio, dataset, page: DatasetsPage) -> None:
    paths = make_images(tmp_path / "in", len(CAPTIONS), size=64)
    for path, caption in zip(paths, CAPTIONS, strict=True):
        if caption:
            path.with_suffix(".txt").write_text(caption, encoding="utf-8")
    import_paths(studio, dataset, paths)
    open_with(qtbot, page, len(CAPTIONS))


def selected_names(page: DatasetsPage) -> list[str]:
    return [page.model.row(i).name for i in page.selected_ids()]


def focus_grid(qtbot, page: DatasetsPage) -> None:
    page.activateWindow()
    page.grid.setFocus()
    qtbot.waitUntil(page.grid.hasFocus)


def test_keys_move_the_selection_instead_of_adding_to_it(qtbot, tmp_path: Path, studio: Studio,
                                                         dataset, page: DatasetsPage) -> None:
    fill(qtbot, tmp_path, studio, dataset, page)
    page.select_position(0)
    page.grid.selectionModel().select(page.model.index(3), QItemSelectionModel.SelectionFlag.Select)
    assert len(page.selected_ids()) == 2
    qtbot.waitUntil(page.editor.isEnabled)
    page.editor.text.setFocus()
    qtbot.keyClick(page.editor.text, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert selected_names(page) == ["img-001.jpg"] and page.grid.currentIndex().row() == 1
    focus_grid(qtbot, page)
    qtbot.keyClick(page.grid, Qt.Key.Key_PageDown)
    assert selected_names(page) == ["img-002.jpg"]
    qtbot.keyClick(page.grid, Qt.Key.Key_PageUp)
    assert selected_names(page) == ["img-001.jpg"]


def test_ctrl_j_jumps_to_the_next_picture_without_a_caption(qtbot, tmp_path: Path, studio: Studio,
                                                            dataset, page: DatasetsPage) -> None:
    fill(qtbot, tmp_path, studio, dataset, page)
    page.select_position(0)
    focus_grid(qtbot, page)
    qtbot.keyClick(page.grid, Qt.Key.Key_J, Qt.KeyboardModifier.ControlModifier)
    assert selected_names(page) == ["img-002.jpg"]
    qtbot.keyClick(page.grid, Qt.Key.Key_J, Qt.KeyboardModifier.ControlModifier)  # the only one
    assert selected_names(page) == ["img-002.jpg"]
    assert page.status.text() != "Every picture shown has a caption."


def test_x_excludes_the_selection_the_excluded_can_be_shown_and_brought_back(
        qtbot, tmp_path: Path, studio: Studio, dataset, page: DatasetsPage) -> None:
    fill(qtbot, tmp_path, studio, dataset, page)
    page.select_position(1)
    page.grid.selectionModel().select(page.model.index(2), QItemSelectionModel.SelectionFlag.Select)
    focus_grid(qtbot, page)
    qtbot.keyClick(page.grid, Qt.Key.Key_X)
    qtbot.waitUntil(lambda: [n for n, i in images(studio, page.dataset).items() if i.excluded]
                    == ["img-001.jpg", "img-002.jpg"])
    qtbot.waitUntil(lambda: page.summary.values["excluded"].text() == "2")
    page.filters.set_value("excluded", "only")
    qtbot.waitUntil(lambda: page.model.rowCount() == 2)
    page.filters.set_value("excluded", "hide")
    qtbot.waitUntil(lambda: page.model.rowCount() == 2)
    assert {r.name for r in page.model.shown_rows()} == {"img-000.jpg", "img-003.jpg"}
    page.filters.set_value("excluded", "only")
    qtbot.waitUntil(lambda: page.model.rowCount() == 2)
    page.select_position(0)
    page.grid.selectionModel().select(page.model.index(1), QItemSelectionModel.SelectionFlag.Select)
    qtbot.keyClick(page.grid, Qt.Key.Key_X)  # all of them excluded: X brings them back
    qtbot.waitUntil(lambda: not any(i.excluded for i in images(studio, page.dataset).values()))
    qtbot.waitUntil(lambda: page.undo_button.text().startswith("Undo Bring back"))
    page.undo()
    qtbot.waitUntil(lambda: images(studio, page.dataset)["img-002.jpg"].excluded)


def test_the_context_menu_excludes_and_brings_back(qtbot, tmp_path: Path, studio: Studio,
                                                   dataset, page: DatasetsPage) -> None:
    fill(qtbot, tmp_path, studio, dataset, page)
    page.select_position(3)
    menu = page.curation.context_menu()
    assert menu is not None
    actions = {a.text().split("\t")[0]: a for a in menu.actions() if a.text()}
    assert set(actions) >= {"Exclude", "Bring back", "Show excluded only"}
    actions["Exclude"].trigger()
    qtbot.waitUntil(lambda: page.model.row_at(3).excluded)  # stored, and read back by the page
    assert images(studio, page.dataset)["img-003.jpg"].excluded
    actions["Show excluded only"].trigger()
    qtbot.waitUntil(lambda: page.model.rowCount() == 1)
    actions["Bring back"].trigger()
    qtbot.waitUntil(lambda: not images(studio, page.dataset)["img-003.jpg"].excluded)


def test_the_tag_panel_counts_filters_renames_and_deletes_with_undo(
        qtbot, monkeypatch, tmp_path: Path, studio: Studio, dataset, page: DatasetsPage) -> None:
    fill(qtbot, tmp_path, studio, dataset, page)
    panel = page.tag_panel
    qtbot.waitUntil(lambda: ("red dress", 2) in panel.tags())
    assert panel.tags()[0] == ("mira_v1", 3)
    assert page.side.tabText(1) == "Tags (4)"
    panel.choose("red dress")
    qtbot.waitUntil(lambda: page.model.rowCount() == 2)
    monkeypatch.setattr(panel, "ask_new_name", lambda old: "crimson dress")
    qtbot.mouseClick(panel.rename_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: ("crimson dress", 2) in panel.tags())
    assert images(studio, page.dataset)["img-001.jpg"].caption == "mira_v1, crimson dress"
    page.undo()
    qtbot.waitUntil(lambda: ("red dress", 2) in panel.tags())
    panel.choose("beach")
    qtbot.mouseClick(panel.delete_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: images(studio, page.dataset)["img-000.jpg"].caption == "mira_v1, red dress")
    qtbot.waitUntil(lambda: "beach" not in dict(panel.tags()))
    page.undo()
    qtbot.waitUntil(lambda: "beach" in dict(panel.tags()))
    assert page.editor.text.suggestions()[0] == "mira_v1"


def test_export_with_empty_captions_warns_and_can_show_them(
        qtbot, monkeypatch, tmp_path: Path, studio: Studio, dataset, page: DatasetsPage) -> None:
    fill(qtbot, tmp_path, studio, dataset, page)
    asked: list[str] = []
    monkeypatch.setattr(page.jobs, "ask_export", lambda: asked.append("folder"))

    def answer(button: str):  # type: ignore[no-untyped-def]
        def open_dialog(box: QDialog) -> int:
            assert isinstance(box, EmptyCaptionWarning) and box.text().startswith("1 pictures")
            getattr(box, button).click()
            return 0
        return open_dialog

    monkeypatch.setattr(page, "open_dialog", answer("show_button"))
    qtbot.mouseClick(page.summary.export_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.model.rowCount() == 1)
    assert page.model.row_at(0).name == "img-002.jpg" and asked == []
    monkeypatch.setattr(page, "open_dialog", answer("export_button"))
    qtbot.mouseClick(page.summary.export_button, Qt.MouseButton.LeftButton)
    assert asked == ["folder"]


def test_delete_moves_the_selection_to_the_trash_and_undo_brings_it_back(
        qtbot, tmp_path: Path, studio: Studio, dataset, page: DatasetsPage) -> None:
    fill(qtbot, tmp_path, studio, dataset, page)
    page.select_position(1)
    page.grid.selectionModel().select(page.model.index(2), QItemSelectionModel.SelectionFlag.Select)
    focus_grid(qtbot, page)
    qtbot.keyClick(page.grid, Qt.Key.Key_Delete)
    qtbot.waitUntil(lambda: page.model.rowCount() == 2, timeout=10_000)
    assert sorted(images(studio, page.dataset)) == ["img-000.jpg", "img-003.jpg"]  # trashed are not listed
    bar = page.curation.undo_bar
    assert not bar.isHidden() and bar.label.text() == "2 pictures moved to the trash."
    bar.undo_button.click()
    qtbot.waitUntil(lambda: page.model.rowCount() == 4, timeout=10_000)
    assert len(images(studio, page.dataset)) == 4 and bar.isHidden()
