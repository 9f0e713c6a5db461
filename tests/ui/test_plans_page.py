"""The Plans page: generate through the fake OpenRouter (the job run here), review, edit, approve,
regenerate, and the budget line's colours."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from PySide6.QtCore import QDate, Qt
from PySide6.QtGui import QDesktopServices, QFontMetrics
from sqlalchemy import select

from studio.engine.core import Studio
from studio.engine.db.models import LLMCall
from studio.engine.influencers import get_influencer
from studio.engine.llm.budget import set_budget
from studio.engine.plans import service
from studio.engine.plans.estimate import clear_price_cache
from studio.ui.context import StudioContext
from studio.ui.pages.plans import PlansPage
from studio.ui.widgets.plan_generate_dialog import GeneratePlanDialog
from tests.conftest import run_cli, run_next_task
from tests.engine.pipelines.helpers import PipelineThread, jobs_of_type, make_item, run_step
from tests.engine.plans.helpers import item, make_mia, plan_answer
from tests.fakes.comfyui_server import FakeComfyUI
from tests.fakes.openai_server import FakeOpenAI

START = date.today() + timedelta(days=1)


@pytest.fixture
def server(studio: Studio) -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as fake:
        studio.settings.llm.base_url = fake.base_url
        studio.settings.llm.plan_model = "openai/gpt-4o-mini"
        studio.save_settings()
        studio.secrets.set("openrouter", "sk-or-ui-plan")
        yield fake


@pytest.fixture
def page(qtbot, context: StudioContext) -> PlansPage:  # type: ignore[no-untyped-def]
    make_mia(context.studio)
    widget = PlansPage(context)
    qtbot.addWidget(widget)
    qtbot.waitUntil(lambda: widget.influencer.count() == 1, timeout=10_000)
    widget.resize(1400, 800)
    return widget


def _dialog(qtbot, page: PlansPage, *, brief: str = "cozy winter",  # type: ignore[no-untyped-def]
            start: date = START) -> GeneratePlanDialog:
    """The Generate plan dialog filled in, with its estimate for these inputs shown."""
    dialog = page.open_generate()
    assert dialog is not None
    dialog.form.start.setDate(QDate(start))
    dialog.form.days.setValue(3)
    with qtbot.waitSignal(dialog.estimated, timeout=10_000):
        dialog.form.brief.setText(brief)
    assert dialog.generate_button.isEnabled()
    return dialog


def _generate(qtbot, page: PlansPage, studio: Studio) -> None:  # type: ignore[no-untyped-def]
    _dialog(qtbot, page).generate_button.click()
    qtbot.waitUntil(lambda: page.follower.job_id is not None, timeout=10_000)
    run_next_task(studio, "general")
    with qtbot.waitSignal(page.job_finished, timeout=15_000) as finished:
        pass
    assert finished.args[0].status == "completed", finished.args[0].error
    qtbot.waitUntil(lambda: page.table.rowCount() == 3, timeout=10_000)


def test_generate_edit_approve_regenerate(qtbot, page: PlansPage, server: FakeOpenAI) -> None:  # type: ignore[no-untyped-def]
    studio = page.context.studio
    server.invalid_json(cost=0.001).success_json(plan_answer(START, 3), cost=0.002)
    _generate(qtbot, page, studio)
    assert "$0.0030" in page.message.text()
    assert "Also: cozy winter" in _posts(server)[0].body["messages"][1]["content"]
    assert page.plans.count() == 1 and "3 posts, 0 approved" in page.plans.item(0).text()

    page.table.selectRow(1)
    editor = page.editor
    assert editor.item is not None and editor.topic.text() == page.items[1].topic
    assert editor.image_prompt.toPlainText().startswith("mia_v")
    editor.caption.setPlainText("Von Hand geschrieben")
    editor.hashtags.setText("winter, #berlin")
    editor.save_button.click()
    qtbot.waitUntil(lambda: page.message.text() == "Saved.", timeout=10_000)
    saved = service.find_item(studio, page.context.workspace_id, str(editor.item.id))
    assert (saved.caption, saved.hashtags) == ("Von Hand geschrieben", ["#winter", "#berlin"])

    qtbot.waitUntil(lambda: page.editor.item is not None and page.editor.item.version == saved.version,
                    timeout=10_000)
    page.editor.approve_button.click()
    qtbot.waitUntil(lambda: "1 approved" in page.plans.item(0).text(), timeout=10_000)
    qtbot.waitUntil(lambda: page.editor.approve_button.text() == "Back to draft", timeout=10_000)

    fresh = {k: v for k, v in item(START, 4, prompt="snow, street lights").items()
             if k not in ("date", "time", "platform")}
    server.success_json(fresh)
    page.editor.instruction.setText("at night")
    page.editor.regenerate_button.click()
    qtbot.waitUntil(lambda: page.follower.job_id is not None, timeout=10_000)
    run_next_task(studio, "general")
    with qtbot.waitSignal(page.job_finished, timeout=15_000):
        pass
    qtbot.waitUntil(lambda: page.editor.item is not None
                    and page.editor.image_prompt.toPlainText() == "mia_v, snow, street lights",
                    timeout=10_000)
    assert page.editor.status.text() == "draft"


def test_stale_edit_and_budget_line(qtbot, page: PlansPage, server: FakeOpenAI,  # type: ignore[no-untyped-def]
                                    shown_errors: list[str]) -> None:
    studio = page.context.studio
    server.success_json(plan_answer(START, 3), cost=0.009)
    set_budget(studio.db, page.context.workspace_id, 0.01)
    _generate(qtbot, page, studio)
    assert "Warning" in page.budget.text() and "#b7791f" in page.budget.styleSheet()
    assert "Warning" in page.message.text()
    page.table.selectRow(0)
    target = page.editor.item
    assert target is not None
    service.edit_item(studio, page.context.workspace_id, target.id, {"hook": "changed elsewhere"})
    page.editor.hook.setText("mine")
    page.editor.save_button.click()
    qtbot.waitUntil(lambda: bool(shown_errors), timeout=10_000)
    assert "changed elsewhere" in shown_errors[0]
    set_budget(studio.db, page.context.workspace_id, 0.005)
    page.refresh()
    qtbot.waitUntil(lambda: "used up" in page.budget.text(), timeout=10_000)
    assert "#c0392b" in page.budget.styleSheet()


def test_spending_dialog_chart_tables_and_budget(qtbot, page: PlansPage,  # type: ignore[no-untyped-def]
                                                 server: FakeOpenAI) -> None:
    studio = page.context.studio
    server.success_json(plan_answer(START, 3), cost=0.85, model="openai/gpt-4o-mini")
    _generate(qtbot, page, studio)
    dialog = page.open_spending()
    qtbot.addWidget(dialog)
    with qtbot.waitSignal(dialog.loaded, timeout=10_000) as loaded:
        pass
    spending = loaded.args[0]
    assert [(r.key, r.cost_usd) for r in spending.by_model] == [("openai/gpt-4o-mini", 0.85)]
    assert dialog.models.item(0, 0).text() == "openai/gpt-4o-mini"
    assert dialog.models.item(0, 5).text() == "$0.8500"
    assert dialog.influencers.item(0, 0).text() == "Mia"
    [series] = dialog.chart.series()
    [bars] = series.barSets()
    with studio.db.session() as session:  # the call's own day: the test may run across midnight
        [called] = session.scalars(select(LLMCall.day)).all()
    assert bars.label() == "openai/gpt-4o-mini" and bars.at(called.day - 1) == pytest.approx(0.85)
    assert dialog.no_limit.isChecked()
    dialog.no_limit.setChecked(False)
    dialog.budget.setValue(1.0)
    dialog.set_button.click()
    with qtbot.waitSignal(dialog.loaded, timeout=10_000) as again:
        pass
    assert again.args[0].status.level == "warning" and "85%" in dialog.summary.text()
    dialog.resize(900, 600)


def test_plans_made_elsewhere_appear_when_the_page_is_shown(qtbot, page: PlansPage,  # type: ignore[no-untyped-def]
                                                            server: FakeOpenAI) -> None:
    studio = page.context.studio
    assert page.plans.count() == 0
    server.success_json(plan_answer(START, 2))
    person = get_influencer(studio, page.context.workspace_id, "Mia")
    job = service.submit_generate_plan(studio, page.context.workspace_id, person, START, 2)
    run_next_task(studio, "general")
    assert studio.jobs.get(job.workspace_id, job.id).status == "completed"
    page.show()
    qtbot.waitUntil(lambda: page.plans.count() == 1 and page.table.rowCount() == 2, timeout=10_000)


def test_generate_dialog_shows_the_cost_first_and_free_for_a_repeat(  # type: ignore[no-untyped-def]
        qtbot, page: PlansPage, server: FakeOpenAI) -> None:
    studio = page.context.studio
    dialog = _dialog(qtbot, page)
    assert dialog.current is not None and dialog.current.cost_usd is None
    assert "price unknown" in dialog.cost.text()
    assert not _posts(server)  # nothing asked, nothing paid
    dialog.reject()

    server.priced("openai/gpt-4o-mini", prompt="0.00000015", completion="0.0000006")
    clear_price_cache()
    dialog = _dialog(qtbot, page)
    estimate = dialog.current
    assert estimate is not None and estimate.cost_usd is not None and estimate.cost_usd > 0
    assert dialog.cost.text() == estimate.line and f"${estimate.cost_usd:.4f}" in dialog.cost.text()
    with qtbot.waitSignal(dialog.estimated, timeout=10_000) as more:
        dialog.form.per_day.setValue(2)
    assert more.args[0].completion_tokens > estimate.completion_tokens
    with qtbot.waitSignal(dialog.estimated, timeout=10_000):
        dialog.form.per_day.setValue(1)
    server.success_json(plan_answer(START, 3))
    dialog.generate_button.click()
    qtbot.waitUntil(lambda: page.follower.job_id is not None, timeout=10_000)
    run_next_task(studio, "general")
    with qtbot.waitSignal(page.job_finished, timeout=15_000):
        pass
    again = _dialog(qtbot, page)
    assert again.current is not None and again.current.cached
    assert again.cost.text().startswith("Free")
    again.resize(620, 260)


def _posts(server: FakeOpenAI) -> list:  # type: ignore[type-arg]
    """The chat requests (the price list is read with GET first)."""
    return [r for r in server.received if r.method == "POST"]


def test_run_pipeline_shows_its_steps_then_the_published_folder(  # type: ignore[no-untyped-def]
        qtbot, context: StudioContext, pipeline_comfy: FakeComfyUI, monkeypatch: pytest.MonkeyPatch) -> None:
    studio = context.studio
    post = make_item(studio, status="draft")
    page = PlansPage(context)
    qtbot.addWidget(page)
    page.resize(1400, 860)
    page.show()
    qtbot.waitUntil(lambda: page.table.rowCount() == 1, timeout=10_000)
    page.table.selectRow(0)
    panel = page.pipeline
    qtbot.waitUntil(lambda: panel.status is not None, timeout=10_000)
    assert not panel.run_button.isEnabled() and panel.state.text() == "Approve the post to produce it."
    page.editor.approve_button.click()
    qtbot.waitUntil(panel.run_button.isEnabled, timeout=10_000)
    assert panel.state.text() == "Not produced yet." and not panel.folder_button.isVisibleTo(page)

    panel.run_button.click()
    qtbot.waitUntil(lambda: panel.status is not None and panel.status.state == "running", timeout=10_000)
    assert [panel.steps.item(r, 0).text() for r in range(panel.steps.rowCount())] == [
        "Picture", "Export", "Publish folder"]
    assert not panel.run_button.isEnabled()
    [job] = jobs_of_type(studio, "run-pipeline")
    runner = PipelineThread(studio)
    run_step(studio, job.id, "generate-image", "generation")
    runner.join()

    # The job hub reports the steps as they finish; the folder appears when the run ends.
    qtbot.waitUntil(lambda: panel.status is not None and panel.status.state == "ready", timeout=10_000)
    assert [panel.steps.item(r, 1).text() for r in range(3)] == ["done"] * 3
    assert panel.folder_button.isVisibleTo(page) and panel.status.folder is not None
    qtbot.waitUntil(lambda: page.editor.status.text() == "ready", timeout=10_000)
    opened: list[str] = []
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: opened.append(url.toLocalFile()))
    panel.folder_button.click()
    assert opened == [str(panel.status.folder)] and (panel.status.folder / "post.jpg").is_file()
    assert post.id == page.editor.item.id


def _open_post(qtbot, context: StudioContext, status: str):  # type: ignore[no-untyped-def]
    """The Plans page shown with its one post chosen in the editor."""
    post = make_item(context.studio, status=status)
    page = PlansPage(context)
    qtbot.addWidget(page)
    page.resize(1400, 860)
    page.show()
    qtbot.waitUntil(lambda: page.table.rowCount() == 1, timeout=10_000)
    page.table.selectRow(0)
    assert page.editor.item is not None and page.editor.item.id == post.id
    return page, post


def test_a_post_edited_elsewhere_while_open_is_reported_not_overwritten(  # type: ignore[no-untyped-def]
        qtbot, context: StudioContext, data_dir: Path, shown_errors: list[str]) -> None:
    page, post = _open_post(qtbot, context, "draft")
    editor = page.editor
    editor.hook.setText("mine, typed here")
    done = run_cli(data_dir, "plan", "edit", str(post.id), "--set", "hook=written in the terminal")
    assert done.returncode == 0, done.stderr

    qtbot.waitUntil(editor.conflict.isVisible, timeout=5_000)
    assert "Changed elsewhere" in editor.conflict.text.text()
    assert editor.hook.text() == "mine, typed here"  # the typing stays
    assert editor.newer is not None and editor.newer.hook == "written in the terminal"
    editor.save_button.click()  # still based on the version the editor loaded: refused
    qtbot.waitUntil(lambda: bool(shown_errors), timeout=10_000)
    assert "changed elsewhere" in shown_errors[0]
    stored = service.find_item(context.studio, context.workspace_id, str(post.id))
    assert stored.hook == "written in the terminal"

    editor.conflict.keep_button.click()  # knowingly: the next save replaces the other version
    assert not editor.conflict.isVisible() and editor.hook.text() == "mine, typed here"
    editor.save_button.click()
    qtbot.waitUntil(lambda: page.message.text() == "Saved.", timeout=10_000)
    stored = service.find_item(context.studio, context.workspace_id, str(post.id))
    assert stored.hook == "mine, typed here" and len(shown_errors) == 1

    editor.caption.setPlainText("half-written caption")
    done = run_cli(data_dir, "plan", "edit", str(post.id), "--set", "topic=Sunrise instead")
    assert done.returncode == 0, done.stderr
    qtbot.waitUntil(editor.conflict.isVisible, timeout=5_000)
    editor.conflict.reload_button.click()  # the other version is shown, the typing dropped
    assert editor.topic.text() == "Sunrise instead" and editor.hook.text() == "mine, typed here"
    assert editor.caption.toPlainText() == stored.caption and not editor.is_dirty()


def test_a_post_changed_elsewhere_without_edits_here_is_simply_shown(  # type: ignore[no-untyped-def]
        qtbot, context: StudioContext, data_dir: Path) -> None:
    page, post = _open_post(qtbot, context, "draft")
    done = run_cli(data_dir, "plan", "edit", str(post.id), "--set", "hook=written in the terminal")
    assert done.returncode == 0, done.stderr
    qtbot.waitUntil(lambda: page.editor.hook.text() == "written in the terminal", timeout=5_000)
    assert not page.editor.conflict.isVisible()
    qtbot.waitUntil(lambda: page.table.item(0, 4).text() == "written in the terminal", timeout=5_000)


def test_a_failing_pipeline_step_turns_red_with_its_jobs_error(  # type: ignore[no-untyped-def]
        qtbot, context: StudioContext, pipeline_comfy: FakeComfyUI) -> None:
    studio = context.studio
    page, _post = _open_post(qtbot, context, "approved")
    panel = page.pipeline
    qtbot.waitUntil(panel.run_button.isEnabled, timeout=10_000)
    pipeline_comfy.script(fail_at="3", exception_message="CUDA out of memory")
    panel.run_button.click()
    qtbot.waitUntil(lambda: panel.status is not None and panel.status.state == "running", timeout=10_000)
    [job] = jobs_of_type(studio, "run-pipeline")
    runner = PipelineThread(studio)
    step = run_step(studio, job.id, "generate-image", "generation")
    runner.join()
    assert step.status == "failed" and "CUDA out of memory" in step.error

    # The hub's snapshot of the step job is what the panel shows: state, colour and error.
    qtbot.waitUntil(lambda: panel.steps.item(0, 1).text() == "failed", timeout=10_000)
    # The panel may read the failed row before the hub's next refresh brings its snapshot.
    qtbot.waitUntil(lambda: context.jobs.snapshot(step.id) is not None, timeout=10_000)
    snapshot = context.jobs.snapshot(step.id)
    assert snapshot is not None and snapshot.parent_id == job.id
    assert panel.steps.item(0, 3).text() == snapshot.error
    assert "CUDA out of memory" in panel.steps.item(0, 3).text()
    assert panel.steps.item(0, 1).foreground().color().name() == "#c0392b"
    assert panel.banner.isVisible() and "CUDA out of memory" in panel.banner.reason.text()
    qtbot.waitUntil(lambda: panel.status is not None and panel.status.state == "failed", timeout=10_000)
    assert panel.run_button.text() == "Run again"
    qtbot.waitUntil(panel.run_button.isEnabled, timeout=10_000)  # the post failed too


def test_the_calendar_turns_to_a_new_plans_first_post(qtbot, page: PlansPage,  # type: ignore[no-untyped-def]
                                                      server: FakeOpenAI) -> None:
    studio, later = page.context.studio, START + timedelta(days=75)
    server.success_json(plan_answer(later, 3), cost=0.001)
    _dialog(qtbot, page, start=later).generate_button.click()
    qtbot.waitUntil(lambda: page.follower.job_id is not None, timeout=10_000)
    page.calendar.go_today()  # the user looks elsewhere while the plan is written
    assert later not in page.calendar.range.days
    run_next_task(studio, "general")
    qtbot.waitUntil(lambda: page.table.rowCount() == 3, timeout=15_000)
    first = min(i.scheduled_at for i in page.items).astimezone().date()
    # The calendar turns once the page has read the new plan, which may come after its table.
    qtbot.waitUntil(lambda: first in page.calendar.range.days, timeout=10_000)
    assert first in page.calendar.range.days and page.calendar.range.in_focus(first)
    qtbot.waitUntil(lambda: len(page.calendar.grid.rows) >= 1, timeout=10_000)


def test_the_spending_chart_labels_every_day_it_shows(qtbot, page: PlansPage) -> None:  # type: ignore[no-untyped-def]
    from studio.engine.llm.budget import month_bounds, today_utc
    from studio.ui.widgets.spend_dialog import day_labels, day_width
    labels = day_labels(date(2026, 12, 1), 31)
    assert labels[:3] == ["1", "2", "3"] and labels[30] == "31"
    assert len(set(labels)) == 31
    assert len(day_labels(date(2027, 2, 1), 28)) == 28
    dialog = page.open_spending()
    qtbot.addWidget(dialog)
    with qtbot.waitSignal(dialog.loaded, timeout=10_000):
        pass
    first, _ = month_bounds(today_utc())
    [axis] = dialog.chart.axes(Qt.Orientation.Horizontal)
    assert axis.categories() == day_labels(first, len(axis.categories()))
    assert len(axis.categories()) >= 28 and axis.titleText() == f"{first:%B %Y}"
    # Room for every label: Qt elides a category label wider than its bar's slot.
    metrics = QFontMetrics(axis.labelsFont())
    room = day_width(metrics)
    assert max(metrics.horizontalAdvance(label) for label in axis.categories()) < room
    assert dialog.view.minimumWidth() >= len(axis.categories()) * room
    [series] = dialog.chart.series()
    assert all(bars.count() == len(axis.categories()) for bars in series.barSets())


def test_a_failed_plan_job_shows_its_reason_and_retry_writes_the_plan(  # type: ignore[no-untyped-def]
        qtbot, page: PlansPage, server: FakeOpenAI) -> None:
    studio = page.context.studio
    server.error(400, "this model does not exist")
    _dialog(qtbot, page).generate_button.click()
    qtbot.waitUntil(lambda: page.follower.job_id is not None, timeout=10_000)
    run_next_task(studio, "general")
    with qtbot.waitSignal(page.job_finished, timeout=15_000) as finished:
        pass
    assert finished.args[0].status == "failed"
    assert not page.banner.isHidden() and page.banner.reason.text()
    assert page.banner.retry_button.isEnabled()

    server.success_json(plan_answer(START, 3), cost=0.001)
    with qtbot.waitSignal(page.banner.retried, timeout=10_000):
        page.banner.retry_button.click()
    run_next_task(studio, "general")
    qtbot.waitUntil(lambda: page.table.rowCount() == 3, timeout=15_000)
    assert page.banner.isHidden()
