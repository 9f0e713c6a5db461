"""Recipes across model families on the Generate page: the model and family shown on the card,
"Load into form" picking a workflow of the recipe's family, "Use as input" of any family's picture."""
from __future__ import annotations

from pathlib import Path

import pytest

from studio.engine.db.models import Influencer
from studio.ui.context import StudioContext
from studio.ui.pages.generate import GeneratePage
from studio.ui.pages.generate_recipe import input_template
from studio.ui.widgets.recipe_view import recipe_fields
from tests.fakes.comfyui_server import FakeComfyUI
from tests.ui.helpers import open_page

FLUX_RECIPE = {"template": "my-old-flux-portrait", "family": "flux1", "kind": "txt2img", "seed": 99,
               "model": "flux1-dev.safetensors", "checkpoint": None, "lora": "mira_flux.safetensors",
               "values": {"positive": "mira, golden hour portrait", "steps": 24, "guidance": 3.0,
                          "lora_name": "mira_flux.safetensors", "grain": 0.3}}


@pytest.fixture
def page(qtbot, context: StudioContext, fake: FakeComfyUI, mira: Influencer) -> GeneratePage:
    page = open_page(qtbot, context)
    qtbot.waitUntil(lambda: len(page.form.options("sampler")) > 10 and page.influencer_box.count() == 2)
    return page


def test_the_card_names_the_model_and_its_family() -> None:
    fields = dict(recipe_fields(FLUX_RECIPE))
    assert (fields["Model"], fields["Family"]) == ("flux1-dev.safetensors", "FLUX.1")
    assert "Checkpoint" not in fields
    # An SD picture's checkpoint is its model: named once; a user's own graph has no family.
    sd = dict(recipe_fields({"checkpoint": "sd15.safetensors", "model": "sd15.safetensors", "family": "other"}))
    assert sd["Checkpoint"] == "sd15.safetensors" and "Model" not in sd and "Family" not in sd


def test_a_recipe_whose_workflow_is_gone_loads_into_one_of_its_family(qtbot, page: GeneratePage) -> None:
    page.select_template("txt2img-sd15-lora")
    with qtbot.waitSignal(page.recipes.recipe_loaded, timeout=5_000) as loaded:
        page.recipes.load(FLUX_RECIPE)
    assert page.current_template().name == "txt2img-flux1-lora"  # type: ignore[union-attr]
    assert page.form.value("steps") == 24 and page.seed.text() == "99"
    assert loaded.args[0].startswith("The workflow my-old-flux-portrait is not installed; loaded what fits into ")
    assert "This workflow has no grain: left out." in loaded.args[0]


def test_a_recipe_of_a_family_no_workflow_has_says_so(qtbot, page: GeneratePage) -> None:
    page.select_template("txt2img-sd15-lora")
    recipe = {**FLUX_RECIPE, "family": "sd35", "values": {"steps": 30}}
    with qtbot.waitSignal(page.recipes.recipe_loaded, timeout=5_000) as loaded:
        page.recipes.load(recipe)
    assert page.current_template().name == "txt2img-sd15-lora"  # type: ignore[union-attr]
    assert loaded.args[0] == "No SD 3.5 workflow is installed; loaded what fits into Text to image (SD 1.5, LoRA)."


@pytest.mark.parametrize(("current", "chosen"), [
    ("txt2img-flux1-lora", "edit-flux1-kontext"),  # its own family's edit
    ("txt2img-qwen-image-lora", "edit-qwen-image"),
    ("txt2img-sd15-lora", "img2img-sd15-lora"),
    ("edit-qwen-image", "edit-qwen-image"),  # a workflow that takes a picture stays
    ("txt2img-sdxl-lora", "img2img-sd15-lora"),  # no SDXL one: any family's will do
])
def test_use_as_input_picks_a_workflow_of_the_current_family(qtbot, page: GeneratePage, tmp_path: Path,
                                                             current: str, chosen: str) -> None:
    page.select_template(current)
    picture = tmp_path / "flux-made.png"
    picture.write_bytes(b"")  # the page takes the path; the file is read when queued
    page.use_as_input(picture)
    assert page.current_template().name == chosen  # type: ignore[union-attr]
    assert page.form.value("input_image") == str(picture)


def test_no_workflow_taking_a_picture_means_none_is_chosen(page: GeneratePage) -> None:
    only_text = {name: t for name, t in page.templates.items() if t.kind == "txt2img"}
    assert input_template(only_text, page.current_template()) is None
