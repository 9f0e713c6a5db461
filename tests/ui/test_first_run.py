"""The getting-started guide: complete it, skip it, reopen it; the sample dataset really imports."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from studio.engine.config import load_settings
from studio.engine.core import Studio
from studio.engine.datasets.service import get_dataset, list_images
from studio.engine.first_run import is_first_run
from studio.engine.influencers import Persona, create_influencer, list_influencers
from studio.ui.context import StudioContext
from studio.ui.main_window import MainWindow
from tests.conftest import run_next_task


@pytest.fixture
def window(qtbot, context: StudioContext) -> Iterator[MainWindow]:
    win = MainWindow(context)
    qtbot.addWidget(win)
    win.show()
    yield win


def click(qtbot, button) -> None:  # type: ignore[no-untyped-def]
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def test_complete_the_guide_with_a_sample_dataset(qtbot, tmp_path: Path, studio: Studio,
                                                  window: MainWindow) -> None:
    assert is_first_run(studio)
    window.getting_started_action.trigger()
    guide = window.first_run_guide
    assert guide.heading.text() == "1 of 3 · Welcome" and not guide.back_button.isEnabled()
    assert not guide.sample.isEnabled()
    guide.workspace.setText("Lisbon studio")
    guide.influencer.setText("Mira Sol")
    click(qtbot, guide.next_button)
    assert guide.steps.currentIndex() == 0
    assert guide.error_line.text() == "Give the influencer a trigger word: one word the LoRA learns."
    guide.trigger.setText("mira_v1")
    guide.sample.setChecked(True)
    click(qtbot, guide.next_button)
    assert guide.heading.text() == "2 of 3 · Your tools"
    (tmp_path / "ComfyUI").mkdir()
    (tmp_path / "sd-scripts").mkdir()
    guide.comfy_folder.setText(str(tmp_path / "ComfyUI"))
    guide.sd_folder.setText(str(tmp_path / "sd-scripts"))
    with qtbot.waitSignal(guide.checks_shown, timeout=60_000):
        click(qtbot, guide.next_button)
    labels = [guide.checks.item(i).text().split(":")[0] for i in range(guide.checks.count())]
    assert "● ComfyUI" in labels and "● FFmpeg" in labels
    assert guide.finish_button.isVisible() and not guide.next_button.isVisible()
    assert not guide.data_dir.isEnabled()  # this profile was opened with its own data folder

    with qtbot.waitSignal(guide.completed, timeout=20_000) as done:
        click(qtbot, guide.finish_button)
    result = done.args[0]
    assert window.context.workspace.name == "Lisbon studio"
    assert [w.name for w in studio.workspaces()] == ["Lisbon studio"]  # the empty default, renamed
    [mira] = list_influencers(studio, result.workspace_id)
    assert (mira.name, mira.trigger_word) == ("Mira Sol", "mira_v1")
    saved = load_settings(studio.paths.settings_file)
    assert saved.general.first_run_done and saved.general.current_workspace == "Lisbon studio"
    assert saved.comfyui.folder == str(tmp_path / "ComfyUI")
    assert saved.sdscripts.folder == str(tmp_path / "sd-scripts")
    assert window.current_page_key() == "datasets"
    assert not is_first_run(studio)

    run_next_task(studio, "general")  # the import the guide queued
    dataset = get_dataset(studio, result.workspace_id, "Sample", influencer_ref=mira.id)
    assert len(list_images(studio, dataset)) == 15


def test_skip_the_guide_then_reopen_it_from_help(qtbot, studio: Studio, window: MainWindow) -> None:
    window.getting_started_action.trigger()
    guide = window.first_run_guide
    with qtbot.waitSignal(guide.skipped, timeout=10_000):
        click(qtbot, guide.skip_button)
    assert not guide.isVisible()
    assert load_settings(studio.paths.settings_file).general.first_run_done
    assert not is_first_run(studio)
    assert list_influencers(studio, window.context.workspace_id) == []

    window.getting_started_action.trigger()
    again = window.first_run_guide
    assert again is not guide and again.isVisible()
    assert again.workspace.text() == window.context.workspace.name


def test_a_folder_that_does_not_exist_is_one_line_and_nothing_is_made(qtbot, studio: Studio,
                                                                      window: MainWindow) -> None:
    window.getting_started_action.trigger()
    guide = window.first_run_guide
    click(qtbot, guide.next_button)
    guide.sd_folder.setText("/nowhere/sd-scripts")
    click(qtbot, guide.next_button)
    click(qtbot, guide.finish_button)
    qtbot.waitUntil(lambda: guide.error_line.text() != "", timeout=10_000)
    assert guide.error_line.text() == "The sd-scripts folder /nowhere/sd-scripts does not exist."
    assert guide.isVisible() and guide.finish_button.isEnabled()
    assert not load_settings(studio.paths.settings_file).general.first_run_done


def test_an_existing_influencer_means_no_guide(studio: Studio) -> None:
    assert is_first_run(studio)
    create_influencer(studio, studio.workspace().id, Persona(name="Ana", trigger_word="ana_v1"))
    assert not is_first_run(studio)
