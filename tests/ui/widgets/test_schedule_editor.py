"""The daily schedule box on the Plans page: follows the chosen influencer, saves and removes the
schedule off the UI thread, and says what the last run did (a refusal in the error colour)."""
from __future__ import annotations

from datetime import datetime

from PySide6.QtCore import QTime
from PySide6.QtWidgets import QComboBox

from studio.engine.core import Studio
from studio.engine.db.models import Influencer
from studio.engine.pipelines.daily_plans import ScheduleChange, run_daily_plans, schedule_view, set_schedule
from studio.ui.context import StudioContext
from studio.ui.pages.plans import PlansPage
from studio.ui.theme_style import tone
from studio.ui.widgets.schedule_editor import ScheduleEditor
from tests.engine.plans.helpers import make_mia


def _editor(qtbot, context: StudioContext, *people: Influencer) -> ScheduleEditor:  # type: ignore[no-untyped-def]
    box = QComboBox()
    for person in people:
        box.addItem(person.name, person.id)
    editor = ScheduleEditor(context, box)
    qtbot.addWidget(box)
    qtbot.addWidget(editor)
    return editor


def test_a_schedule_is_saved_changed_and_removed(qtbot, context: StudioContext, studio: Studio,  # type: ignore[no-untyped-def]
                                                 mira: Influencer) -> None:
    editor = _editor(qtbot, context, mira)
    qtbot.waitUntil(lambda: editor.last_run.text().startswith("No daily schedule"), timeout=10_000)
    assert not editor.remove_button.isEnabled() and editor.platforms["instagram"].isChecked()
    editor.enabled_box.setChecked(True)
    editor.at.setTime(QTime(7, 45))
    editor.posts.setValue(2)
    editor.platforms["tiktok"].setChecked(True)
    editor.auto_approve.setChecked(True)
    with qtbot.waitSignal(editor.schedule_loaded, timeout=10_000,
                          check_params_cb=lambda view: view is not None):
        editor.save_button.click()
    view = schedule_view(studio, mira.workspace_id, mira.id)
    assert view is not None
    assert (view.at, view.posts_per_day, view.platforms, view.auto_approve, view.enabled) == (
        "07:45", 2, ("instagram", "tiktok"), True, True)
    assert editor.last_run.text() == "Last run: never" and editor.remove_button.isEnabled()
    with qtbot.waitSignal(editor.schedule_loaded, timeout=10_000, check_params_cb=lambda v: v is None):
        editor.remove_button.click()
    assert schedule_view(studio, mira.workspace_id, mira.id) is None


def test_it_follows_the_influencer_and_shows_a_refused_run(qtbot, context: StudioContext,  # type: ignore[no-untyped-def]
                                                          studio: Studio, mira: Influencer) -> None:
    mia = make_mia(studio)
    set_schedule(studio, mia.workspace_id, mia.id, ScheduleChange(at="09:00", posts_per_day=3))
    run_daily_plans(studio, datetime(2026, 12, 10, 9, 0).astimezone())  # no plan model: refused
    editor = _editor(qtbot, context, mira, mia)
    qtbot.waitUntil(lambda: editor.last_run.text().startswith("No daily schedule"), timeout=10_000)
    with qtbot.waitSignal(editor.schedule_loaded, timeout=10_000, check_params_cb=lambda v: v is not None):
        editor.influencer.setCurrentIndex(1)
    assert editor.posts.value() == 3 and editor.at.time() == QTime(9, 0)
    assert editor.last_run.text().startswith("Last run: 2026-12-10: failed: No model chosen")
    assert editor.last_run.styleSheet() == f"color: {tone('error')};"


def test_the_plans_page_shows_it_for_the_chosen_influencer(qtbot, context: StudioContext,  # type: ignore[no-untyped-def]
                                                           mira: Influencer) -> None:
    page = PlansPage(context)
    qtbot.addWidget(page)
    editor = page.findChild(ScheduleEditor)
    assert editor is not None
    qtbot.waitUntil(lambda: editor.influencer_id() == mira.id and editor.isEnabled(), timeout=10_000)


def test_a_schedule_set_elsewhere_appears(qtbot, context: StudioContext, studio: Studio,  # type: ignore[no-untyped-def]
                                          mira: Influencer) -> None:
    editor = _editor(qtbot, context, mira)
    qtbot.waitUntil(lambda: editor.last_run.text().startswith("No daily schedule"), timeout=10_000)
    # as `plan schedule set` in another process leaves it
    set_schedule(studio, mira.workspace_id, mira.id, ScheduleChange(at="06:15", posts_per_day=4))
    qtbot.waitUntil(lambda: editor.posts.value() == 4, timeout=10_000)
    assert editor.at.time() == QTime(6, 15) and editor.enabled_box.isChecked()
