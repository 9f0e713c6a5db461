"""The Datasets page driven like a user would, against the real engine and real files; what a
worker or the command line changes reaches it without a click."""
from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent
from PySide6.QtWidgets import QDialog, QDialogButtonBox

from studio.engine.core import Studio
from studio.engine.datasets.importer import import_paths
from studio.engine.datasets.service import list_images, update_image
from studio.engine.first_run import FirstRunChoices, apply_first_run
from studio.ui.context import StudioContext, WorkspaceRef
from studio.ui.pages.datasets import DatasetsPage
from tests.conftest import run_cli
from tests.ui import datasets_page_helpers as shared
from tests.ui.datasets_page_helpers import blurred, images, open_with, run_queued_jobs
from tests.ui.helpers import make_images

dataset, page, drain_loaders = shared.dataset, shared.page, shared.drain_loaders  # fixtures, found by name


def test_drop_of_files_a_folder_and_a_zip_imports_and_reports_refusals(
        qtbot, tmp_path: Path, studio: Studio, dataset, page: DatasetsPage) -> None:
    single = make_images(tmp_path / "single", 1, size=96, prefix="solo")[0]
    folder = tmp_path / "shoot"
    make_images(folder, 2, size=96, prefix="shoot")
    (folder / "shoot-000.txt").write_text("mira_v1, beach", encoding="utf-8")
    archive = tmp_path / "more.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.write(make_images(tmp_path / "zipped", 1, size=96, prefix="zipped")[0], "zipped-000.jpg")
        zipped.writestr("broken.jpg", b"this is not a jpeg")
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in (single, folder, archive)])
    event = QDropEvent(QPointF(20, 20), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                       Qt.KeyboardModifier.NoModifier)
    page.grid.dropEvent(event)
    assert event.isAccepted()

    qtbot.waitUntil(lambda: run_queued_jobs(studio) > 0, timeout=10_000)  # the import
    qtbot.waitUntil(lambda: page.import_panel.refused() != [], timeout=10_000)
    [(source, reason)] = page.import_panel.refused()
    assert source.endswith("broken.jpg") and reason
    counts = page.import_panel.counts.text()
    assert "4 imported" in counts and "1 refused" in counts
    qtbot.waitUntil(lambda: page.model.rowCount() == 4)
    assert images(studio, dataset)["shoot-000.jpg"].caption == "mira_v1, beach"

    qtbot.waitUntil(lambda: run_queued_jobs(studio) > 0, timeout=10_000)  # the analysis it started
    # the import analysed each picture already; the analysis job groups them
    qtbot.waitUntil(lambda: "Analysis finished" in page.import_panel.title.text(), timeout=10_000)
    qtbot.waitUntil(lambda: page.summary.values["analyzed"].text() == "4", timeout=10_000)


def test_filters_narrow_the_grid(qtbot, tmp_path: Path, studio: Studio, dataset,
                                 page: DatasetsPage) -> None:
    paths = [*make_images(tmp_path / "in", 3, size=256), blurred(tmp_path / "in" / "soft.jpg")]
    (tmp_path / "in" / "img-000.txt").write_text("mira_v1, red dress", encoding="utf-8")
    import_paths(studio, dataset, paths)
    page.analyze()
    qtbot.waitUntil(lambda: run_queued_jobs(studio) > 0, timeout=10_000)
    qtbot.waitUntil(lambda: page.summary.values["analyzed"].text() == "4", timeout=10_000)
    open_with(qtbot, page, 4)
    qtbot.waitUntil(lambda: page.summary.values["problems"].text() == "3")  # counted off the UI thread
    assert page.summary.problems.text() == "• 3 empty captions"
    assert page.summary.problems.toolTip().count("the caption is empty") == 3

    page.filters.set_value("caption", "without")
    qtbot.waitUntil(lambda: page.model.rowCount() == 3)
    page.filters.set_value("caption", "any")
    page.filters.blurry.setChecked(True)
    qtbot.waitUntil(lambda: page.model.rowCount() == 1)
    assert page.model.row_at(0).name == "soft.jpg"
    page.filters.blurry.setChecked(False)
    qtbot.keyClicks(page.filters.search, "red dress")
    qtbot.waitUntil(lambda: page.model.rowCount() == 1)
    assert page.model.row_at(0).name == "img-000.jpg"
    page.filters.search.clear()
    page.filters.tag.setCurrentText("red dress")
    qtbot.waitUntil(lambda: page.model.rowCount() == 1)


def test_caption_edits_are_saved_and_undo_redo_restore_them(qtbot, tmp_path: Path, studio: Studio,
                                                            dataset, page: DatasetsPage) -> None:
    import_paths(studio, dataset, make_images(tmp_path / "in", 3, size=64))
    open_with(qtbot, page, 3)
    page.select_position(0)
    qtbot.waitUntil(page.editor.isEnabled)
    qtbot.keyClicks(page.editor.text, "mira_v1, smiling")
    qtbot.waitUntil(lambda: images(studio, dataset)["img-000.jpg"].caption == "mira_v1, smiling")
    qtbot.waitUntil(page.undo_button.isEnabled)
    assert page.undo_button.text().startswith("Undo Edit caption")

    qtbot.keyClick(page.editor.text, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert page.grid.currentIndex().row() == 1  # Ctrl+Enter: the next image
    qtbot.mouseClick(page.undo_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: images(studio, dataset)["img-000.jpg"].caption == "")
    qtbot.waitUntil(page.redo_button.isEnabled)
    qtbot.mouseClick(page.redo_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: images(studio, dataset)["img-000.jpg"].caption == "mira_v1, smiling")
    qtbot.waitUntil(lambda: page.model.row_at(0).caption == "mira_v1, smiling")  # the grid shows it

    qtbot.keyClick(page.editor.text, Qt.Key.Key_J, Qt.KeyboardModifier.ControlModifier)
    assert page.grid.currentIndex().row() == 2  # the next one without a caption
    qtbot.keyClick(page.editor.text, Qt.Key.Key_J, Qt.KeyboardModifier.ControlModifier)
    assert page.grid.currentIndex().row() == 1  # round again, past the captioned first one
    page.select_position(0)
    qtbot.waitUntil(lambda: page.editor.text.toPlainText() == "mira_v1, smiling")


def test_batch_add_tag_over_the_selection_then_undo(qtbot, monkeypatch, tmp_path: Path, studio: Studio,
                                                    dataset, page: DatasetsPage) -> None:
    import_paths(studio, dataset, make_images(tmp_path / "in", 3, size=64))
    open_with(qtbot, page, 3)
    page.select_position(0)
    page.grid.selectionModel().select(page.model.index(2), page.grid.selectionModel().SelectionFlag.Select)
    assert len(page.selected_ids()) == 2

    def fill(dialog) -> int:
        dialog.choose("add")
        dialog.fields["tags"].setText("outdoor, film")
        dialog.scope_buttons["selected"].setChecked(True)
        dialog._on_accepted()
        return dialog.result()

    monkeypatch.setattr(page, "open_dialog", fill)
    qtbot.mouseClick(page.batch_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: images(studio, dataset)["img-000.jpg"].caption == "outdoor, film")
    found = images(studio, dataset)
    assert found["img-002.jpg"].caption == "outdoor, film" and found["img-001.jpg"].caption == ""
    qtbot.waitUntil(lambda: page.undo_button.text().startswith("Undo Add outdoor, film"))
    qtbot.mouseClick(page.undo_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: all(i.caption == "" for i in images(studio, dataset).values()))


def test_dragging_the_crop_saves_a_manual_crop(qtbot, tmp_path: Path, studio: Studio, dataset,
                                               page: DatasetsPage) -> None:
    import_paths(studio, dataset, make_images(tmp_path / "in", 1, size=400))
    image = list_images(studio, dataset)[0]
    update_image(studio, dataset.workspace_id, image.id,
                 crop={"x": 0, "y": 0, "w": 200, "h": 200, "bucket": [512, 512], "source": "auto"})
    open_with(qtbot, page, 1)
    page.select_position(0)
    canvas = page.pane.canvas
    qtbot.waitUntil(lambda: canvas.image is not None)
    start = canvas.crop_rect().center().toPoint()
    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=start)
    qtbot.mouseMove(canvas, start + QPoint(60, 40))
    qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=start + QPoint(60, 40))
    qtbot.waitUntil(lambda: list_images(studio, dataset)[0].crop_manual)
    crop = list_images(studio, dataset)[0].crop
    assert crop["x"] > 0 and crop["y"] > 0 and (crop["w"], crop["h"]) == (200, 200)
    assert crop["bucket"] == [512, 512] and crop["source"] == "manual"

    corner = canvas.crop_rect().bottomRight().toPoint()
    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=corner)
    qtbot.mouseMove(canvas, corner + QPoint(30, 5))
    qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=corner + QPoint(30, 5))
    qtbot.waitUntil(lambda: list_images(studio, dataset)[0].crop["w"] > 200)
    crop = list_images(studio, dataset)[0].crop
    assert crop["w"] == crop["h"]  # the bucket's aspect ratio is kept


def test_bulk_exclusions_show_what_they_take_out_and_undo_brings_it_back(
        qtbot, monkeypatch, tmp_path: Path, studio: Studio, dataset, page: DatasetsPage) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    picture = Image.fromarray(np.random.default_rng(3).integers(0, 255, (320, 320, 3), dtype=np.uint8))
    picture.save(folder / "a.jpg", quality=95)
    picture.save(folder / "b.jpg", quality=80)  # another file, the same picture: a near-duplicate
    blurred(folder / "soft.jpg")
    import_paths(studio, dataset, sorted(folder.iterdir()))
    page.analyze()
    qtbot.waitUntil(lambda: run_queued_jobs(studio) > 0, timeout=10_000)
    qtbot.waitUntil(lambda: page.summary.values["analyzed"].text() == "3", timeout=10_000)
    # analysed at import; the near-duplicate group comes with the analysis job
    qtbot.waitUntil(lambda: page.summary.values["groups"].text() == "1", timeout=10_000)
    ids = {row.name: row.id for row in page.model.all_rows()}
    seen: list[object] = []

    def review(dialog) -> int:  # the user keeps b.jpg instead of the keeper proposed
        seen.append(dialog)
        [group] = dialog.groups
        assert {m.name for m in group.members} == {"a.jpg", "b.jpg"}
        dialog.keep(group.number, ids["b.jpg"])
        assert dialog.to_exclude() == [ids["a.jpg"]]
        return QDialog.DialogCode.Accepted

    monkeypatch.setattr(page, "open_dialog", review)
    qtbot.mouseClick(page.summary.exclude_dups_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: images(studio, dataset)["a.jpg"].excluded)
    assert not images(studio, dataset)["b.jpg"].excluded and seen

    def preview(dialog) -> int:  # the threshold moves what would be taken out; scores are shown
        assert [r.name.split(" · ")[-1] for r in dialog.model.all_rows()] == ["soft.jpg"]
        assert float(dialog.model.row_at(0).name.split(" · ")[0]) < 100
        dialog.threshold.setValue(0)
        assert dialog.model.rowCount() == 0
        assert not dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).isEnabled()
        dialog.threshold.setValue(100)
        assert dialog.chosen() == [ids["soft.jpg"]]
        return QDialog.DialogCode.Accepted

    monkeypatch.setattr(page, "open_dialog", preview)
    qtbot.waitUntil(page.summary.exclude_blurry_button.isEnabled)
    qtbot.mouseClick(page.summary.exclude_blurry_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: images(studio, dataset)["soft.jpg"].excluded)
    qtbot.waitUntil(lambda: page.summary.values["excluded"].text() == "2")
    qtbot.waitUntil(lambda: page.undo_button.text().startswith("Undo Exclude 1 blurry"))
    page.undo()
    qtbot.waitUntil(lambda: not images(studio, dataset)["soft.jpg"].excluded)
    qtbot.waitUntil(lambda: page.undo_button.text().startswith("Undo Exclude 1 near"))
    page.undo()
    qtbot.waitUntil(lambda: not images(studio, dataset)["a.jpg"].excluded)


def test_export_writes_a_kohya_folder(qtbot, tmp_path: Path, studio: Studio, dataset,
                                      page: DatasetsPage) -> None:
    paths = make_images(tmp_path / "in", 2, size=64)
    (tmp_path / "in" / "img-000.txt").write_text("mira_v1, beach", encoding="utf-8")
    import_paths(studio, dataset, paths)
    open_with(qtbot, page, 2)
    out = tmp_path / "export"
    with qtbot.waitSignal(page.message_shown, timeout=20_000,
                          check_params_cb=lambda text: text.startswith("Exported")):
        page.export_to(out)
    folders = [p for p in (out / "img").iterdir() if p.is_dir()]
    assert [f.name for f in folders] == ["10_mira_v1"]
    captions = sorted(folders[0].glob("*.txt"))
    assert len(list(folders[0].glob("*.jpg")) + list(folders[0].glob("*.png"))) == 2
    assert [c.read_text(encoding="utf-8") for c in captions] == ["mira_v1, beach"]
    assert (out / "dataset_config.toml").is_file()


def test_new_dataset_is_created_and_opened(qtbot, monkeypatch, studio: Studio, dataset,
                                           page: DatasetsPage) -> None:
    from PySide6.QtWidgets import QInputDialog
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: ("Second look", True))
    qtbot.mouseClick(page.new_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.dataset is not None and page.dataset.name == "Second look")
    assert page.dataset_box.count() == 2 and page.model.rowCount() == 0


def test_auto_caption_the_uncaptioned_pictures_through_the_llm(
        qtbot, monkeypatch, tmp_path: Path, studio: Studio, dataset, page: DatasetsPage) -> None:
    from PySide6.QtWidgets import QMessageBox

    from tests.fakes.openai_server import FakeOpenAI
    import_paths(studio, dataset, make_images(tmp_path / "in", 2, size=64))
    open_with(qtbot, page, 2)
    asked: list[str] = []
    monkeypatch.setattr(QMessageBox, "question",
                        lambda _parent, _title, text, *a, **k: asked.append(text) or QMessageBox.StandardButton.Yes)
    with FakeOpenAI() as fake:
        studio.settings.llm.base_url = fake.base_url
        studio.settings.llm.model = "openai/gpt-4o-mini"
        studio.secrets.set("openrouter", "sk-test-key-123456")
        fake.success("smiling, red scarf", cost=0.001).success("reading a book", cost=0.002)
        qtbot.mouseClick(page.autocaption_button, Qt.MouseButton.LeftButton)
        assert asked and "2 picture(s)" in asked[0] and "openai/gpt-4o-mini" in asked[0]
        # The row is written before its queue message: wait for the message, not the row.
        qtbot.waitUntil(lambda: sum(h.pending_count() for h in studio.queues.hueys.values()) == 1)
        assert run_queued_jobs(studio) == 1
    qtbot.waitUntil(lambda: "Auto-caption finished" in page.import_panel.title.text(), timeout=10_000)
    captions = sorted(i.caption for i in list_images(studio, dataset))
    assert captions == ["mira_v1, reading a book", "mira_v1, smiling, red scarf"]
    job = studio.jobs.list(dataset.workspace_id)[0]
    assert job.type == "autocaption-dataset" and job.cost_usd == pytest.approx(0.003)
    qtbot.waitUntil(page.undo_button.isEnabled)
    qtbot.mouseClick(page.undo_button, Qt.MouseButton.LeftButton)  # one step takes both back
    qtbot.waitUntil(lambda: all(i.caption == "" for i in list_images(studio, dataset)))


def test_a_dataset_made_by_the_command_line_appears_in_the_picker(qtbot, data_dir: Path, dataset,
                                                                  page: DatasetsPage) -> None:
    done = run_cli(data_dir, "dataset", "create", "--influencer", "Mira", "Beach day")
    assert done.returncode == 0, done.stderr
    # within 2 s (bench/live_state.py measures it); 5 s here for a loaded CI machine
    qtbot.waitUntil(lambda: page.dataset_box.findText("Beach day") >= 0, timeout=5000)
    assert page.dataset is not None and page.dataset.id == dataset.id  # the open one stays open
    assert page.dataset_box.currentText() == "Portraits"


def test_an_import_run_by_a_worker_reaches_the_panel_and_the_grid(qtbot, tmp_path: Path, dataset,
                                                                  page: DatasetsPage, worker) -> None:
    page.import_paths(make_images(tmp_path / "in", 3, size=96))
    qtbot.waitUntil(lambda: "3 imported" in page.import_panel.counts.text(), timeout=30_000)
    qtbot.waitUntil(lambda: page.model.rowCount() == 3 and page.summary.values["images"].text() == "3",
                    timeout=5000)
    assert page.filters.count.text().startswith("3 of 3")
    qtbot.waitUntil(lambda: "Analysis finished" in page.import_panel.title.text(), timeout=30_000)
    qtbot.waitUntil(lambda: page.summary.values["analyzed"].text() == "3", timeout=5000)


def test_the_sample_dataset_import_ends_with_its_real_counts(qtbot, studio: Studio,
                                                             context: StudioContext, worker) -> None:
    """It showed "0 of 0" after its import finished: nothing read the pictures the worker added."""
    page = DatasetsPage(context)
    qtbot.addWidget(page)
    page.resize(1100, 700)
    page.show()
    result = apply_first_run(studio, FirstRunChoices(workspace="Lisbon", influencer="Mira",
                                                     trigger_word="mira_v1", sample_dataset=True))
    assert result.sample_job_id is not None
    context.set_workspace(WorkspaceRef(result.workspace_id, result.workspace_name))
    page.follow_import(result.sample_job_id)  # as the main window does when the guide completes
    qtbot.waitUntil(lambda: page.dataset is not None and page.dataset.name == "Sample", timeout=5000)
    qtbot.waitUntil(lambda: "15 imported" in page.import_panel.counts.text(), timeout=60_000)
    qtbot.waitUntil(lambda: page.model.total() == 15, timeout=5000)
    assert page.filters.count.text().startswith("15 of 15")
    assert page.summary.values["images"].text() == "15"


def test_a_caption_changed_elsewhere_while_typing_is_reported_not_overwritten(
        qtbot, tmp_path: Path, studio: Studio, dataset, page: DatasetsPage) -> None:
    from studio.engine.datasets.captions import set_caption
    import_paths(studio, dataset, make_images(tmp_path / "in", 1, size=64))
    open_with(qtbot, page, 1)
    page.select_position(0)
    qtbot.waitUntil(page.editor.isEnabled)
    page.editor.text.setPlainText("mira_v1, typed here")  # typing: the save waits for a pause
    elsewhere = Studio.open(studio.paths.data_dir)  # an auto-caption, the CLI, another window
    image_id = images(studio, dataset)["img-000.jpg"].id
    set_caption(elsewhere, dataset, image_id, "mira_v1, captioned elsewhere")
    page.editor.flush()
    qtbot.waitUntil(page.editor.changed_bar.isVisible)
    assert images(studio, dataset)["img-000.jpg"].caption == "mira_v1, captioned elsewhere"
    # the grid hears of the other caption, and the typing still stays, the question open
    qtbot.waitUntil(lambda: page.model.row_at(0).caption == "mira_v1, captioned elsewhere")
    assert page.editor.text.toPlainText() == "mira_v1, typed here"
    assert page.editor.changed_bar.isVisible()

    qtbot.mouseClick(page.editor.changed_bar.keep_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: images(studio, dataset)["img-000.jpg"].caption == "mira_v1, typed here")

    page.editor.text.setPlainText("mira_v1, typed again")
    set_caption(elsewhere, dataset, image_id, "mira_v1, newer elsewhere")
    page.editor.flush()
    qtbot.waitUntil(page.editor.changed_bar.isVisible)
    qtbot.mouseClick(page.editor.changed_bar.reload_button, Qt.MouseButton.LeftButton)
    assert page.editor.text.toPlainText() == "mira_v1, newer elsewhere"
    assert images(studio, dataset)["img-000.jpg"].caption == "mira_v1, newer elsewhere"
    elsewhere.close()
