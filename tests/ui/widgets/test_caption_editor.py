"""The caption editor's token counter per model family: the limit of the family's text encoder,
an estimate marked as one, a family picked by hand kept per dataset, and the Datasets page
counting for the family of the influencer's last training."""
from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from studio.engine.core import Studio
from studio.engine.db.models import Job
from studio.engine.db.repositories import Repository
from studio.ui.pages.datasets import DatasetsPage
from studio.ui.widgets.caption_editor import CaptionEditor
from tests.ui import datasets_page_helpers as shared

dataset, drain_loaders = shared.dataset, shared.drain_loaders  # fixtures, found by name
PROSE = ("mira_v1 walks along a cobblestone alley in Lisbon early in the morning, laughing, with her "
         "golden retriever beside her; pastel buildings, long shadows, a grainy 35mm film look. ") * 2


@pytest.fixture
def editor(qtbot) -> Iterator[CaptionEditor]:  # type: ignore[no-untyped-def]
    widget = CaptionEditor()
    qtbot.addWidget(widget)
    widget.resize(900, 200)
    widget.show_caption(uuid.uuid4(), PROSE)
    yield widget
    widget.flush()


def _pick(editor: CaptionEditor, family: str) -> None:
    editor.family.setCurrentIndex(editor.family.findData(family))
    editor.family.activated.emit(editor.family.currentIndex())  # as a click on the list does


def test_counts_against_the_family_limit(editor: CaptionEditor) -> None:
    assert editor.current_family() == "sd15"
    clip = editor.tokens.text()
    assert clip.endswith("/ 75 CLIP tokens") and "bold" in editor.tokens.styleSheet()  # over CLIP's 75
    _pick(editor, "flux1")
    assert editor.tokens.text().startswith("≈") and editor.tokens.text().endswith("/ 511 T5-XXL tokens")
    assert editor.tokens.styleSheet() == ""  # fits T5's 511
    assert "about" in editor.tokens.toolTip() and "t5xxl_max_token_length 512" in editor.tokens.toolTip()
    _pick(editor, "qwen_image")
    assert editor.tokens.text().endswith("/ 1019 Qwen2.5-VL tokens")
    _pick(editor, "wan22_5b")
    assert editor.tokens.text().endswith("/ 511 umT5-XXL tokens")


def test_a_family_picked_by_hand_stays_for_its_dataset(editor: CaptionEditor) -> None:
    first, second = uuid.uuid4(), uuid.uuid4()
    editor.suggest_family(first, "flux1")
    assert editor.current_family() == "flux1"
    _pick(editor, "sd35")
    editor.suggest_family(first, "flux1")  # a refresh of the same dataset
    assert editor.current_family() == "sd35" and editor.tokens.text().endswith("/ 255 T5-XXL tokens")
    editor.suggest_family(second, None)  # another dataset, never trained: SD 1.5's CLIP
    assert editor.current_family() == "sd15"
    editor.suggest_family(first, "flux1")
    assert editor.current_family() == "sd35"


def test_the_page_counts_for_the_last_training(qtbot, studio: Studio, context, dataset) -> None:  # type: ignore[no-untyped-def]
    with studio.db.session() as session:
        Repository(session, context.workspace_id).add(Job(
            type="train-lora", queue="training", title="FLUX.1 likeness",
            payload={"influencer_id": str(dataset.influencer_id), "config": {"family": "flux1"}}))
    page = DatasetsPage(context)
    qtbot.addWidget(page)
    page.resize(1280, 720)
    page.show()
    qtbot.waitUntil(lambda: page.editor.current_family() == "flux1")
    assert page.editor.family.currentText() == "FLUX.1"
