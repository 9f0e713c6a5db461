"""Train → Generate in a real window: the influencer's active LoRA leads the picker, "Use in
Generate" opens Generate set up for a LoRA, and a LoRA file made elsewhere is imported and offered."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtWidgets import QFileDialog

from studio.engine.core import Studio
from studio.engine.db.models import Influencer, LoraModel
from studio.engine.loras.importing import import_lora
from studio.engine.training.results import set_active
from studio.ui.context import StudioContext
from studio.ui.main_window import MainWindow
from studio.ui.pages.generate import GeneratePage
from studio.ui.pages.training import TrainingPage
from tests.engine.loras.files import SDXL, write_lora
from tests.fakes.comfyui_server import FakeComfyUI
from tests.ui.helpers import LORAS, open_page

SD15 = {"modelspec.architecture": "stable-diffusion-v1/lora"}


def _add(studio: Studio, mira: Influencer, folder: Path, name: str, metadata: dict[str, str]) -> LoraModel:
    made = write_lora(folder / f"{name}.safetensors", {**metadata, "ss_output_name": name})  # distinct bytes
    return import_lora(studio, mira.workspace_id, made, influencer_id=mira.id)


@pytest.fixture
def window(qtbot, context: StudioContext, fake: FakeComfyUI, mira: Influencer) -> Iterator[MainWindow]:
    win = MainWindow(context)
    qtbot.addWidget(win)
    win.resize(1280, 720)
    win.show()
    page = win.pages["generate"]
    assert isinstance(page, GeneratePage)
    qtbot.waitUntil(lambda: page.influencer_box.count() == 2 and len(page.form.options("sampler")) > 10,
                    timeout=10_000)
    yield win


def test_the_active_lora_leads_the_picker_and_is_chosen(qtbot, studio: Studio, context: StudioContext,
                                                        fake: FakeComfyUI, mira: Influencer, tmp_path: Path) -> None:
    _add(studio, mira, tmp_path, "mira_v3", SD15)
    active = _add(studio, mira, tmp_path, "mira_v4", SD15)
    _add(studio, mira, tmp_path, "mira_xl", SDXL)
    set_active(studio.db, mira.workspace_id, active.id)
    page = open_page(qtbot, context)
    expected = ["", "mira_v4.safetensors", "mira_v3.safetensors", *LORAS]  # no SDXL LoRA with SD 1.5
    qtbot.waitUntil(lambda: page.form.options("lora_name") == expected, timeout=10_000)
    # Her active LoRA, not the one named after her trigger word (mira_v1 in ComfyUI's folder).
    qtbot.waitUntil(lambda: page.form.value("lora_name") == "mira_v4.safetensors", timeout=5_000)
    page.form.set_value("lora_name", "film_grain.safetensors")  # the user's choice stays
    with qtbot.waitSignal(page.choices.library_loaded, timeout=10_000):
        page.choices.load_library()
    assert page.form.value("lora_name") == "film_grain.safetensors"


def test_use_in_generate_opens_generate_with_her_a_workflow_of_the_family_and_the_lora(
        qtbot, studio: Studio, window: MainWindow, mira: Influencer, tmp_path: Path) -> None:
    xl = _add(studio, mira, tmp_path, "mira_xl", SDXL)
    page, training = window.pages["generate"], window.pages["training"]
    assert isinstance(page, GeneratePage) and isinstance(training, TrainingPage)
    window.show_page("training")
    page.influencer_box.setCurrentIndex(0)  # "No influencer", SD 1.5: both must change
    page.influencer_box.activated.emit(0)
    training.use_in_generate.emit(xl.id)  # what both "Use in Generate" buttons send
    qtbot.waitUntil(lambda: page.form.value("lora_name") == "mira_xl.safetensors", timeout=10_000)
    assert window.current_page_key() == "generate"
    template = page.current_template()
    assert template is not None and template.name == "txt2img-sdxl-lora"
    assert page.influencer_box.currentData().id == mira.id
    assert page.prompt.toPlainText().startswith("mira_v1, ")  # her trigger word leads
    assert page.status.text() == "Generating with Mia XL (mira_xl.safetensors)."


def test_an_imported_lora_file_is_offered_with_its_familys_workflows(
        qtbot, monkeypatch, window: MainWindow, tmp_path: Path) -> None:
    source = write_lora(tmp_path / "downloads" / "film_look.safetensors", SDXL)
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *args, **kwargs: (str(source), ""))
    training, page = window.pages["training"], window.pages["generate"]
    assert isinstance(training, TrainingPage) and isinstance(page, GeneratePage)
    with qtbot.waitSignal(training.message_shown, timeout=10_000,
                          check_params_cb=lambda text: text.startswith("Imported")) as shown:
        training.monitor.import_button.click()
    assert shown.args[0] == "Imported Mia XL as film_look.safetensors; Generate offers it with SDXL workflows."
    page.select_template("txt2img-sdxl-lora")
    qtbot.waitUntil(lambda: page.form.options("lora_name")[:2] == ["", "film_look.safetensors"], timeout=10_000)
    page.select_template("txt2img-sd15-lora")
    qtbot.waitUntil(lambda: page.form.options("lora_name") == ["", *LORAS], timeout=10_000)


def test_a_broken_lora_file_is_refused_in_one_line(qtbot, monkeypatch, window: MainWindow, tmp_path: Path) -> None:
    source = tmp_path / "half.safetensors"
    source.write_bytes(write_lora(tmp_path / "whole.safetensors", SDXL).read_bytes()[:-3])
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *args, **kwargs: (str(source), ""))
    training = window.pages["training"]
    assert isinstance(training, TrainingPage)
    with qtbot.waitSignal(training.message_shown, timeout=10_000,
                          check_params_cb=lambda text: not text.startswith("Importing")) as shown:
        training.monitor.import_button.click()
    assert shown.args[0].startswith("half.safetensors is not a LoRA the studio can read: it is ")
    assert "\n" not in shown.args[0]


def test_a_lora_in_comfyuis_folder_made_for_another_family_is_not_offered(
        qtbot, studio: Studio, context: StudioContext, fake: FakeComfyUI, mira: Influencer, tmp_path: Path) -> None:
    folder = tmp_path / "ComfyUI" / "models" / "loras"
    write_lora(folder / "film_grain.safetensors", SDXL)  # one of the fake ComfyUI's LoRAs, an SDXL one
    studio.settings.comfyui.loras_dir = str(folder)
    page = open_page(qtbot, context)
    qtbot.waitUntil(lambda: page.form.options("lora_name") == ["", "mira_v1.safetensors"], timeout=10_000)
    page.select_template("txt2img-sdxl-lora")
    qtbot.waitUntil(lambda: page.form.options("lora_name") == ["", *LORAS], timeout=10_000)
