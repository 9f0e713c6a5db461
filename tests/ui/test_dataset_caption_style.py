"""The Datasets page's export asks how to write the captions (as they are, tags or sentences),
and its auto-caption asks in the style of the influencer's last training's family."""
from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtWidgets import QFileDialog, QInputDialog

from studio.engine.core import Studio
from studio.engine.db.models import Job
from studio.engine.db.repositories import Repository
from studio.ui.pages import dataset_ops as ops
from studio.ui.pages.datasets import DatasetsPage
from tests.engine.datasets.caption_helpers import add_image
from tests.ui import datasets_page_helpers as shared
from tests.ui.datasets_page_helpers import open_with

dataset, page, drain_loaders = shared.dataset, shared.page, shared.drain_loaders  # fixtures, found by name


def test_export_asks_for_the_caption_style(qtbot, tmp_path: Path, studio: Studio, dataset, page: DatasetsPage,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    add_image(studio, dataset, 1, caption="red_dress, mira_v1, beach")
    open_with(qtbot, page, 1)
    out = tmp_path / "flux"
    offered: list[list[str]] = []

    def choose(_parent, _title, _label, items, *_args):  # type: ignore[no-untyped-def]
        offered.append(list(items))
        return items[2], True

    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *_args: str(out))
    monkeypatch.setattr(QInputDialog, "getItem", choose)
    with qtbot.waitSignal(page.message_shown, timeout=20_000,
                          check_params_cb=lambda text: text.startswith("Exported")) as shown:
        page.jobs.ask_export()
    assert offered == [["As they are", "As tags (SD 1.5, SDXL)", "As sentences (FLUX.1, SD 3.5, Qwen-Image, Wan 2.2)"]]
    assert shown.args is not None and shown.args[0].endswith("; captions as sentences: 1 joined from tags.")
    (caption,) = (out / "img").glob("*/*.txt")
    assert caption.read_text(encoding="utf-8") == "mira_v1, red dress and beach."


def test_auto_caption_follows_the_last_training(studio: Studio, context, dataset) -> None:  # type: ignore[no-untyped-def]
    image = add_image(studio, dataset, 1)
    studio.settings.llm.model = "vision/m"
    with studio.db.session() as session:
        Repository(session, context.workspace_id).add(Job(
            type="train-lora", queue="training", title="Qwen-Image likeness",
            payload={"influencer_id": str(dataset.influencer_id), "config": {"family": "qwen_image"}}))
    job = studio.jobs.get(context.workspace_id, ops.submit_autocaption(context, dataset, [image.id]))
    assert job.payload["style"] == "sentences" and "natural sentences" in job.payload["prompt_template"]
