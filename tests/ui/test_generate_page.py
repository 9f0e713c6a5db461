"""The Generate page driven like a user would: real engine, real jobs, a fake ComfyUI over HTTP."""
from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog

from studio.engine.comfyui.workflows import BUILTIN_DIR
from studio.engine.core import Studio
from studio.engine.db.models import Influencer
from studio.ui.context import StudioContext
from studio.ui.pages.generate import GeneratePage
from studio.ui.widgets.generate_form import with_trigger
from tests.fakes.comfyui_server import FakeComfyUI
from tests.ui.helpers import CHECKPOINTS, LORAS, open_page, run_next


@pytest.fixture
def page(qtbot, context: StudioContext, fake: FakeComfyUI, mira: Influencer) -> GeneratePage:
    page = open_page(qtbot, context)
    qtbot.waitUntil(lambda: len(page.form.options("sampler")) > 10 and page.influencer_box.count() == 2)
    return page


def generate(qtbot, page: GeneratePage) -> list:
    with qtbot.waitSignal(page.jobs_submitted, timeout=10_000) as submitted:
        qtbot.mouseClick(page.generate_button, Qt.MouseButton.LeftButton)
    return submitted.args[0]


def wait_for_stage(qtbot, studio: Studio, page: GeneratePage, job_id, text: str) -> None:
    try:
        qtbot.waitUntil(lambda: text in page.panel.stage.text(), timeout=10_000)
    except Exception:
        job = studio.jobs.get(page.context.workspace_id, job_id)
        raise AssertionError(f"stage shows {page.panel.stage.text()!r}; the job is {job.status} "
                             f"{job.stage!r} {job.message!r} {job.error!r}") from None


def test_trigger_word_goes_in_front_once() -> None:
    assert with_trigger("on a beach", "mira_v1") == "mira_v1, on a beach"
    assert with_trigger("Mira_V1 on a beach", "mira_v1") == "Mira_V1 on a beach"
    assert with_trigger("", "mira_v1") == "mira_v1"
    assert with_trigger("on a beach", "") == "on a beach"


def test_the_form_holds_the_template_defaults_and_comfyuis_choices(page: GeneratePage) -> None:
    titles = [page.template_box.itemText(i) for i in range(page.template_box.count())]
    assert "Text to image (SD 1.5, LoRA)  [SD 1.5]" in titles and len(titles) == 8
    assert "Text to image (FLUX.1 dev, LoRA)  [FLUX.1]" in titles
    assert any("[SDXL]" in t for t in titles)
    assert page.current_template().name == "txt2img-sd15-lora"
    form = page.form
    assert (form.value("steps"), form.value("cfg"), form.value("width"), form.value("height")) == (25, 7.0, 512, 512)
    assert form.value("lora_strength") == pytest.approx(0.8)
    assert form.editors["width"].singleStep() == 8 and form.editors["steps"].maximum() == 200
    assert "lora_strength_clip" not in form.editors and "positive" not in form.editors
    # Pickers: what the fake ComfyUI reports in /object_info, the template's default kept.
    assert form.options("checkpoint") == CHECKPOINTS
    assert form.value("checkpoint") == "v1-5-pruned-emaonly.safetensors"
    assert "euler" in form.options("sampler") and form.value("sampler") == "dpmpp_2m"
    assert "karras" in form.options("scheduler")
    assert form.options("lora_name") == ["", *LORAS]
    # Mira is chosen: her trigger word leads the prompt and her LoRA is picked.
    assert page.influencer_box.currentText() == "Mira"
    assert page.prompt.toPlainText().startswith("mira_v1, photo of a young woman")
    assert form.value("lora_name") == "mira_v1.safetensors"
    assert page.comfy_line.isHidden()

    page.select_template("txt2img-sdxl-lora")
    assert (form.value("width"), form.value("steps")) == (1024, 30)
    page.select_template("img2img-sd15-lora")
    assert "input_image" in form.editors and "width" not in form.editors
    assert form.value("denoise") == pytest.approx(0.6)


def test_the_vram_estimate_follows_the_workflow_and_its_values(qtbot, page: GeneratePage,
                                                             fake: FakeComfyUI) -> None:
    line = page.controls.vram_line
    assert line.isVisibleTo(page) and line.text().startswith("VRAM needed: about 3 GB (an estimate for SD 1.5")
    fake.models["diffusion_models"] = ["flux1-dev.safetensors", "flux1-dev-fp8.safetensors"]
    page.select_template("txt2img-flux1-lora")
    assert line.text() == ("VRAM needed: about 27 GB (an estimate for FLUX.1 at 1024×1024, 16-bit "
                           "weights); about 15 GB with fp8 weights (weight_dtype fp8_e4m3fn).")
    page.form.set_value("weight_dtype", "fp8_e4m3fn")
    assert line.text().startswith("VRAM needed: about 15 GB") and "fp8 weights)." in line.text()
    page.form.set_value("weight_dtype", "default")
    page.form.set_value("width", 2048)
    assert line.text().startswith("VRAM needed: about 29 GB (an estimate for FLUX.1 at 2048×1024")
    # The model pickers list ComfyUI's diffusion_models folder.
    qtbot.waitUntil(lambda: page.form.options("model") == fake.models["diffusion_models"])
    page.form.set_value("model", "flux1-dev-fp8.safetensors")
    assert "fp8 weights)." in line.text()


def test_generate_shows_progress_preview_and_the_result(qtbot, studio: Studio, page: GeneratePage,
                                                        fake: FakeComfyUI) -> None:
    page.form.set_value("steps", 6)
    fake.script(previews=True, hold_at="3")
    [job_id] = generate(qtbot, page)
    job = studio.jobs.get(page.context.workspace_id, job_id)
    values = job.payload["values"]
    assert values["positive"].startswith("mira_v1, ") and values["lora_name"] == "mira_v1.safetensors"
    assert values["steps"] == 6 and values["checkpoint"] == "v1-5-pruned-emaonly.safetensors"

    runner = threading.Thread(target=run_next, args=(studio,))
    runner.start()
    try:
        wait_for_stage(qtbot, studio, page, job_id, "KSampler")
        qtbot.waitUntil(lambda: page.panel.preview.image is not None, timeout=10_000)
        assert page.panel.cancel_button.isEnabled()
        assert 0 <= page.panel.bar.value() < 100
    finally:
        fake.release()
        runner.join(timeout=20)
    qtbot.waitUntil(lambda: page.results.rowCount() == 1, timeout=10_000)
    assert page.panel.stage.text().startswith("Done")
    assert page.panel.bar.value() == 100 and not page.panel.cancel_button.isEnabled()
    assert page.panel.step.text() == ""
    row = page.results.row_at(0)
    assert row.job_id == job_id and row.lora == "mira_v1.safetensors"
    qtbot.waitUntil(lambda: page.thumbnails.get(row.sha256, 128) is not None, timeout=10_000)

    page.tabs.setCurrentWidget(page.gallery)
    qtbot.waitUntil(lambda: page.gallery.model.rowCount() == 1, timeout=10_000)
    assert page.gallery.model.row_at(0).id == row.id


def test_a_locked_seed_counts_up_over_the_batch(qtbot, studio: Studio, page: GeneratePage) -> None:
    page.seed_lock.setChecked(True)
    page.seed.setText("4242")
    page.count.setValue(3)
    job_ids = generate(qtbot, page)
    seeds = [studio.jobs.get(page.context.workspace_id, j).payload["values"]["seed"] for j in job_ids]
    assert seeds == [4242, 4243, 4244]
    page.seed_lock.setChecked(False)
    page.count.setValue(2)
    seeds = [studio.jobs.get(page.context.workspace_id, j).payload["values"]["seed"]
             for j in generate(qtbot, page)]
    assert len(set(seeds)) == 2 and 4242 not in seeds


def test_cancel_stops_the_running_job(qtbot, studio: Studio, page: GeneratePage,
                                      fake: FakeComfyUI) -> None:
    fake.script(previews=True, hold_at="3")
    [job_id] = generate(qtbot, page)
    runner = threading.Thread(target=run_next, args=(studio,))
    runner.start()
    try:
        wait_for_stage(qtbot, studio, page, job_id, "KSampler")
        qtbot.mouseClick(page.panel.cancel_button, Qt.MouseButton.LeftButton)
        runner.join(timeout=20)
    finally:
        fake.release()
    assert studio.jobs.get(page.context.workspace_id, job_id).status == "canceled"
    qtbot.waitUntil(lambda: "canceled" in page.panel.stage.text(), timeout=10_000)
    assert page.results.rowCount() == 0


def test_a_missing_lora_is_one_line_and_queues_nothing(qtbot, studio: Studio, page: GeneratePage,
                                                       fake: FakeComfyUI) -> None:
    page.form.set_value("lora_name", "mira_v2.safetensors")
    qtbot.mouseClick(page.generate_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.error_line.text() != "", timeout=10_000)
    assert page.error_line.text() == ("The LoRA 'mira_v2.safetensors' is not in ComfyUI's loras "
                                      "folder; it has: mira_v1.safetensors, film_grain.safetensors.")
    assert "\n" not in page.error_line.text()
    assert studio.jobs.list(page.context.workspace_id) == []
    assert fake.requests("POST", "/prompt") == []
    assert page.generate_button.isEnabled()


def test_comfyui_down_says_why_and_keeps_the_form_usable(qtbot, studio: Studio, context: StudioContext,
                                                         mira: Influencer) -> None:
    with FakeComfyUI() as gone:
        url = gone.base_url
    studio.settings.comfyui.url = url
    page = open_page(qtbot, context)
    qtbot.waitUntil(page.comfy_line.isVisible, timeout=15_000)
    assert page.comfy_line.text().startswith(f"ComfyUI does not answer at {url}: start it or set "
                                             "its address in Settings, ComfyUI.")
    assert page.form.value("checkpoint") == "v1-5-pruned-emaonly.safetensors"
    assert page.form.editors["sampler"].isEditable() and page.form.value("sampler") == "dpmpp_2m"
    qtbot.mouseClick(page.generate_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.error_line.text() != "", timeout=15_000)
    assert page.error_line.text() == (f"ComfyUI does not answer at {url}: start it or set its address "
                                      "in Settings, ComfyUI.")
    assert studio.jobs.list(context.workspace_id) == []


def exported_workflow(folder: Path) -> Path:
    """A graph as a user exports it from ComfyUI: other node ids, node titles kept."""
    graph = json.loads((BUILTIN_DIR / "txt2img-sd15-lora.json").read_text())
    renumber = {old: str(100 + int(old)) for old in graph}
    mine = {}
    for old, node in graph.items():
        inputs = {k: [renumber[v[0]], v[1]] if isinstance(v, list) else v for k, v in node["inputs"].items()}
        mine[renumber[old]] = {**node, "inputs": inputs}
    mine["103"]["_meta"] = {"title": "Main sampler"}
    path = folder / "Portrait flow.json"
    path.write_text(json.dumps(mine))
    return path


def test_add_a_users_workflow_map_its_parameters_then_edit_them(qtbot, monkeypatch, tmp_path: Path,
                                                                studio: Studio, page: GeneratePage,
                                                                fake: FakeComfyUI) -> None:
    source = exported_workflow(tmp_path)
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(source), ""))
    with qtbot.waitSignal(page.workflow_dialog_shown, timeout=10_000):
        qtbot.mouseClick(page.add_workflow_button, Qt.MouseButton.LeftButton)
    dialog = page.workflow_dialog
    assert dialog.name.text() == "Portrait flow" and not dialog.name.isReadOnly()
    guessed = dialog.mapping()
    assert guessed["seed"] == "103.seed" and guessed["steps"] == "103.steps"
    assert guessed["positive"] == "106.text" and guessed["lora_strength"] == ["110.strength_model",
                                                                             "110.strength_clip"]
    titles = [dialog.table.item(row, 0).text() for row in range(dialog.table.rowCount())]
    assert "103 · Main sampler" in titles
    dialog.set_parameter("103.denoise", "Not A Name")
    dialog.accept()
    assert dialog.isVisible() and "not a parameter name" in dialog.error_line.text()
    dialog.set_parameter("103.denoise", "")
    dialog.set_parameter("103.cfg", "")
    with qtbot.waitSignal(page.workflow_saved, timeout=10_000) as saved:
        dialog.accept()
    assert saved.args == ["portrait-flow"]
    template = page.current_template()
    assert template is not None and template.name == "portrait-flow"
    assert "cfg" not in template.parameters and "steps" in template.parameters
    assert page.template_note.text().startswith("Your workflow · parameters: ")
    assert page.edit_workflow_button.isEnabled()
    qtbot.waitUntil(lambda: "steps" in page.form.editors and len(page.form.options("sampler")) > 10)

    page.form.set_value("steps", 9)
    [job_id] = generate(qtbot, page)
    job = studio.jobs.get(page.context.workspace_id, job_id)
    assert job.payload["template"] == "portrait-flow" and job.payload["values"]["steps"] == 9
    assert job.payload["values"]["lora_name"] == "mira_v1.safetensors"  # not the file's own

    with qtbot.waitSignal(page.workflow_dialog_shown, timeout=10_000):
        qtbot.mouseClick(page.edit_workflow_button, Qt.MouseButton.LeftButton)
    dialog = page.workflow_dialog
    assert dialog.name.isReadOnly() and dialog.mapping()["steps"] == "103.steps"
    assert "cfg" not in dialog.mapping()
    dialog.set_parameter("103.steps", "")
    with qtbot.waitSignal(page.workflow_saved, timeout=10_000):
        dialog.accept()
    assert "steps" not in page.current_template().parameters
    assert "steps" not in page.form.editors
    assert sorted(p.name for p in (studio.paths.data_dir / "workflows").iterdir()) == [
        "portrait-flow.json", "portrait-flow.params.json"]


def test_a_ui_format_file_is_refused_in_one_line(qtbot, monkeypatch, tmp_path: Path,
                                                 page: GeneratePage) -> None:
    ui_file = tmp_path / "saved from the menu.json"
    ui_file.write_text(json.dumps({"nodes": [], "links": [], "version": 0.4}))
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(ui_file), ""))
    with qtbot.waitSignal(page.message_shown, timeout=10_000) as shown:
        qtbot.mouseClick(page.add_workflow_button, Qt.MouseButton.LeftButton)
    assert shown.args[0] == ("saved from the menu.json is a ComfyUI UI workflow; save it from ComfyUI "
                             "with Workflow > Export (API) and use that file.")
    assert not (page.context.studio.paths.data_dir / "workflows").exists()


def _register_lora(studio: Studio, influencer: Influencer, folder: Path, name: str, base: str) -> None:
    """What a finishing training does with its final checkpoint (training.results)."""
    import numpy as np
    from safetensors.numpy import save_file

    from studio.engine.storage.local import LocalStore
    from studio.engine.training.results import TrainingRef, register_checkpoint

    path = folder / f"{name}.safetensors"
    save_file({"lora_unet_x.alpha": np.array(2.0, np.float16)}, str(path),
              metadata={"ss_output_name": name, "ss_base_model_version": base})
    ref = TrainingRef(workspace_id=influencer.workspace_id, job_id=None,  # type: ignore[arg-type]
                      influencer_id=influencer.id, output_name=name, base_model="base.safetensors",
                      config={}, dataset_id="", dataset_version="", preset="sd15-fast-test")
    assert register_checkpoint(studio.db, LocalStore(studio.paths.assets_dir), ref, path) is not None


def test_a_lora_a_training_just_registered_is_offered_at_once(qtbot, studio: Studio, page: GeneratePage,
                                                              mira: Influencer, tmp_path: Path) -> None:
    assert page.form.options("lora_name") == ["", *LORAS]
    _register_lora(studio, mira, tmp_path, "mira_v3", "sd_v1")
    _register_lora(studio, mira, tmp_path, "mira_xl", "sdxl_base_v1-0")
    # No click, no reload: the live state reports the new LoRAs and the picker offers them.
    qtbot.waitUntil(lambda: "mira_v3.safetensors" in page.form.options("lora_name"), timeout=5_000)
    # The library's LoRAs of the family first (SD 1.5 only), then the rest of ComfyUI's folder.
    assert page.form.options("lora_name") == ["", "mira_v3.safetensors", *LORAS]
    assert page.form.value("lora_name") == "mira_v1.safetensors"  # the user's choice stays
    page.select_template("txt2img-sdxl-lora")
    qtbot.waitUntil(lambda: "mira_xl.safetensors" in page.form.options("lora_name"), timeout=5_000)
    assert "mira_v3.safetensors" not in page.form.options("lora_name")


def test_a_job_finishing_in_a_worker_process_shows_in_progress_results_and_gallery(
        qtbot, studio: Studio, page: GeneratePage, worker_factory) -> None:
    studio.save_settings()  # the worker reads ComfyUI's address from the settings file
    [job_id] = generate(qtbot, page)
    worker_factory()
    qtbot.waitUntil(lambda: page.results.rowCount() == 1, timeout=30_000)
    assert page.panel.stage.text() == "Done: 1 image job finished."
    assert page.panel.bar.value() == 100 and not page.panel.cancel_button.isEnabled()
    assert page.results.row_at(0).job_id == job_id
    snapshot = page.context.jobs.snapshot(job_id)
    assert snapshot is not None and snapshot.finished and not page.watcher.running()
    page.tabs.setCurrentWidget(page.gallery)  # read again when shown: the worker made a picture
    qtbot.waitUntil(lambda: page.gallery.model.rowCount() == 1, timeout=10_000)
    assert page.gallery.model.row_at(0).job_id == job_id
