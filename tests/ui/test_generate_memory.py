"""Generate opens on the workflow, prompts and parameters the user last had (a new window on
the same data folder, as after a restart)."""
from __future__ import annotations

from studio.engine.core import Studio
from studio.engine.db.models import Influencer
from studio.ui.context import StudioContext, WorkspaceRef
from tests.fakes.comfyui_server import FakeComfyUI
from tests.ui.helpers import open_page


def test_generate_reopens_on_the_last_workflow_prompt_and_values(
        qtbot, studio: Studio, context: StudioContext, fake: FakeComfyUI, mira: Influencer) -> None:  # type: ignore[no-untyped-def]
    page = open_page(qtbot, context)
    page.select_template("txt2img-sdxl-lora")
    page.form.set_value("steps", 33)
    page.prompt.setPlainText("mira_v1, red scarf in the snow")
    page.seed_lock.setChecked(True)
    page.seed.setText("1234")
    page.count.setValue(3)
    page.hide()  # leaving the page takes the parameters too
    context.stop()  # what the app does on quit: pending UI state is written

    again = StudioContext(studio, WorkspaceRef.of(studio.workspace()))
    try:
        reopened = open_page(qtbot, again)
        qtbot.waitUntil(lambda: reopened.current_template().name == "txt2img-sdxl-lora", timeout=10_000)
        assert reopened.form.value("steps") == 33
        assert reopened.prompt.toPlainText() == "mira_v1, red scarf in the snow"
        assert (reopened.seed_lock.isChecked(), reopened.seed.text(), reopened.count.value()) == (True, "1234", 3)
    finally:
        again.stop()


def test_a_workflow_that_is_gone_leaves_the_form_on_its_defaults(
        qtbot, studio: Studio, context: StudioContext, fake: FakeComfyUI, mira: Influencer) -> None:  # type: ignore[no-untyped-def]
    context.remember(f"generate/form/{context.workspace_id}",
                     {"template": "no-such-workflow", "positive": "lost", "values": {"steps": 99}})
    page = open_page(qtbot, context)
    assert page.current_template().name == "txt2img-sd15-lora"
    assert page.form.value("steps") == 25 and page.prompt.toPlainText() != "lost"
