"""The Training page with a musubi-tuner preset: planned through musubi-tuner, models found in
ComfyUI's folders, a missing one named, and a run through the fake musubi-tuner."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from studio.engine.jobs.status import JobStatus
from studio.engine.training.musubi_dataset import preset_table
from studio.ui.context import StudioContext
from studio.ui.pages.training import TrainingPage
from tests.engine.training.helpers import Setup
from tests.engine.training.musubi_helpers import stand_in, use_fake_musubi

PRESET = "qwen-image-fast-test"


@pytest.fixture
def page(qtbot: QtBot, context: StudioContext, setup: Setup, tmp_path: Path,
         monkeypatch: pytest.MonkeyPatch) -> Iterator[TrainingPage]:
    monkeypatch.setattr("studio.engine.training.musubi_plan.detect_vram_gb", lambda: 24.0)
    use_fake_musubi(setup.studio)
    comfy = tmp_path / "ComfyUI"
    for model in preset_table(PRESET, "models").values():
        if model["option"] != "dit":  # the DiT is missing until the test puts it there
            stand_in(comfy / "models" / model["folder"] / model["file"], int(model["size_bytes"]))
    setup.studio.settings.comfyui.folder = str(comfy)
    widget = TrainingPage(context)
    qtbot.addWidget(widget)
    widget.resize(1280, 720)
    widget.show()
    qtbot.waitUntil(lambda: widget.form.dataset_box.count() == 1, timeout=10_000)
    widget.form.preset_box.setCurrentIndex(widget.form.preset_box.findData(PRESET))
    widget.form.set_value("max_train_steps", "4")
    widget.form.changed.emit()
    qtbot.waitUntil(lambda: "steps" in widget.form.estimate.text(), timeout=10_000)
    yield widget


def test_a_missing_dit_is_named_then_found_in_comfyuis_folder(qtbot: QtBot, page: TrainingPage,
                                                              setup: Setup, tmp_path: Path) -> None:
    qtbot.waitUntil(lambda: "The Qwen-Image DiT (bf16) is not set" in page.form.findings.text(), timeout=10_000)
    assert not page.form.start_button.isEnabled()
    stand_in(tmp_path / "ComfyUI" / "models" / "diffusion_models" / "qwen_image_bf16.safetensors", 40_860_000_000)
    page.form.changed.emit()
    qtbot.waitUntil(page.form.start_button.isEnabled, timeout=10_000)
    assert "is not set" not in page.form.findings.text()
    with qtbot.waitSignal(page.training_started, timeout=10_000) as started:
        page.form.start_button.click()
    setup.run_next()
    assert setup.job(started.args[0]).status == JobStatus.COMPLETED
