"""The plan calendar: week and month views, posts on their days coloured by status, today
marked, a click selecting the post in the item editor, and a drag that moves a post to another
day through the engine (kept time of day, version checked)."""
from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest
from PIL import Image
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QColor

from studio.engine.core import Studio
from studio.engine.db.models import ContentPlan, Influencer, PlanItem
from studio.engine.influencers import Persona, create_influencer
from studio.engine.plans import service
from studio.engine.plans.calendar import CalendarRow
from studio.ui.context import StudioContext
from studio.ui.models.plan_calendar import CalendarRange
from studio.ui.pages.plans import PlansPage
from studio.ui.thumbnails import ThumbnailCache
from studio.ui.widgets.plan_calendar import STATUS_COLOURS, CalendarGrid, PlanCalendar
from studio.ui.widgets.plan_chip import THUMB_SIZE, picture_key, picture_of
from tests.engine.plans.helpers import make_mia

TODAY = date.today()
MONDAY = TODAY - timedelta(days=TODAY.weekday())


def seed_plan(studio: Studio, person: Influencer, posts: list[tuple[date, time, str, str]]) -> list[PlanItem]:
    """A plan with the given (day, local time, status, topic) posts, written as the job would."""
    workspace_id = studio.workspace().id
    days = [p[0] for p in posts]
    with studio.db.session() as session:
        plan = ContentPlan(workspace_id=workspace_id, influencer_id=person.id, name="test plan",
                           start_date=min(days), end_date=max(days), status="draft")
        session.add(plan)
        session.flush()
        items = [PlanItem(workspace_id=workspace_id, plan_id=plan.id, platform="instagram",
                          scheduled_at=datetime.combine(day, at).astimezone().astimezone(UTC),
                          status=status, topic=topic, hook=f"Hook {topic}", caption="c",
                          hashtags=["#a"], image_prompt="mia_v, x")
                 for day, at, status, topic in posts]
        session.add_all(items)
    return items


@pytest.fixture
def page(qtbot, context: StudioContext) -> PlansPage:  # type: ignore[no-untyped-def]
    widget = PlansPage(context)
    qtbot.addWidget(widget)
    widget.resize(1400, 800)
    widget.show()
    return widget


def _stored(studio: Studio, item_id: uuid.UUID) -> PlanItem:
    return service.find_item(studio, studio.workspace().id, str(item_id))


def _colour_at(grid: CalendarGrid, point: QPointF) -> str:
    return QColor(grid.grab().toImage().pixel(point.toPoint())).name()


def test_week_and_month_views_navigation_and_today(qtbot) -> None:  # type: ignore[no-untyped-def]
    calendar = PlanCalendar()
    qtbot.addWidget(calendar)
    calendar.resize(900, 500)
    calendar.show()
    assert calendar.range.view == "week" and calendar.range.days[0] == MONDAY
    assert len(calendar.range.days) == 7 and TODAY in calendar.range.days
    today_cell = calendar.grid.day_rect(TODAY)
    assert today_cell is not None
    # Today's cell is tinted; a corner pixel away from the label and the grid lines.
    tinted = calendar.grid.today_fill().name()
    assert tinted != calendar.grid.palette().base().color().name()
    assert _colour_at(calendar.grid, today_cell.bottomRight() - QPointF(6, 6)) == tinted
    other = calendar.grid.day_rect(MONDAY if TODAY != MONDAY else MONDAY + timedelta(days=1))
    assert other is not None
    assert _colour_at(calendar.grid, other.bottomRight() - QPointF(6, 6)) != tinted

    with qtbot.waitSignal(calendar.range_changed):
        calendar.month_button.click()
    assert calendar.range.view == "month" and len(calendar.range.days) == 42
    assert calendar.range.days[0].weekday() == 0 and TODAY.replace(day=1) in calendar.range.days
    assert calendar.title.text() == f"{TODAY:%B %Y}"
    calendar.next_button.click()
    following = CalendarRange("month", TODAY).stepped(1).anchor
    assert calendar.title.text() == f"{following:%B %Y}"
    assert calendar.grid.day_rect(TODAY) is None or not calendar.range.in_focus(TODAY)
    calendar.today_button.click()
    assert calendar.title.text() == f"{TODAY:%B %Y}"
    calendar.week_button.click()
    assert calendar.range.view == "week" and calendar.range.first == MONDAY
    calendar.previous_button.click()
    assert calendar.range.first == MONDAY - timedelta(days=7)


def test_a_full_month_cell_says_how_many_more_posts_it_holds(qtbot) -> None:  # type: ignore[no-untyped-def]
    calendar = PlanCalendar()
    qtbot.addWidget(calendar)
    calendar.resize(700, 420)
    calendar.show()
    calendar.set_view("month")
    person = uuid.uuid4()
    rows = [CalendarRow(PlanItem(id=uuid.uuid4(), status="draft", topic=f"post {i}", platform="tiktok",
                                 scheduled_at=datetime.combine(TODAY, time(8 + i)).astimezone()),
                        person, "Mia") for i in range(6)]
    calendar.set_rows(rows)
    grid = calendar.grid
    shown = [r for r in rows if grid.chip_rect(r.item.id) is not None]
    assert shown and grid.hidden_on(TODAY) == len(rows) - len(shown) > 0
    assert [r.item.topic for r in shown] == [f"post {i}" for i in range(len(shown))]  # by time
    calendar.set_view("week")  # taller cells: every post fits
    assert grid.hidden_on(TODAY) == 0 and all(grid.chip_rect(r.item.id) for r in rows)


def test_a_post_card_shows_its_picture_once_made(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    picture = tmp_path / "post.png"
    Image.new("RGB", (300, 400), (250, 220, 30)).save(picture)  # yellow: no status colour
    calendar = PlanCalendar()
    qtbot.addWidget(calendar)
    calendar.resize(900, 500)
    calendar.show()
    cache = ThumbnailCache(tmp_path / "cache", parent=calendar)
    calendar.grid.set_thumbnails(cache)
    at = datetime.combine(TODAY, time(9)).astimezone()
    made = PlanItem(id=uuid.uuid4(), status="ready", topic="made", platform="instagram", scheduled_at=at,
                    pipeline={"image": {"job_id": "j", "files": [str(picture)], "detail": "post.png"}})
    waiting = PlanItem(id=uuid.uuid4(), status="approved", topic="not yet", platform="instagram",
                       scheduled_at=at + timedelta(hours=2), pipeline={})
    assert picture_of(made) == picture and picture_of(waiting) is None
    person = uuid.uuid4()
    calendar.set_rows([CalendarRow(made, person, "Mia"), CalendarRow(waiting, person, "Mia")])
    grid = calendar.grid
    grid.grab()  # the first paint asks the cache; the picture is decoded off the UI thread
    qtbot.waitUntil(lambda: cache.get(picture_key(picture), THUMB_SIZE) is not None, timeout=10_000)
    for item, expected in ((made, "#fadc1e"), (waiting, STATUS_COLOURS["approved"])):
        rect = grid.chip_rect(item.id)
        assert rect is not None
        left = QColor(_colour_at(grid, QPointF(rect.left() + 6, rect.center().y())))
        wanted = QColor(expected)  # the picture's thumbnail is a JPEG: its colour within a level or two
        assert max(abs(left.red() - wanted.red()), abs(left.green() - wanted.green()),
                   abs(left.blue() - wanted.blue())) <= 3, (left.name(), expected)


def test_posts_on_their_days_coloured_by_status_and_click_selects(qtbot, page: PlansPage) -> None:  # type: ignore[no-untyped-def]
    studio = page.context.studio
    mia = make_mia(studio)
    items = seed_plan(studio, mia, [(MONDAY, time(9, 0), "draft", "coffee"),
                                    (MONDAY + timedelta(days=2), time(18, 30), "approved", "run"),
                                    (MONDAY + timedelta(days=4), time(12, 0), "failed", "haul"),
                                    (MONDAY + timedelta(days=5), time(8, 15), "ready", "books")])
    page.refresh()
    grid = page.calendar.grid
    qtbot.waitUntil(lambda: len(grid.rows) == 4, timeout=10_000)
    image = grid.grab().toImage()
    for entry in items:
        day = entry.scheduled_at.astimezone().date()
        chip, cell = grid.chip_rect(entry.id), grid.day_rect(day)
        assert chip is not None and cell is not None and cell.contains(chip)
        # The chip's left edge is its status colour (text starts a few pixels in).
        edge = QPoint(int(chip.left()) + 2, int(chip.center().y()))
        assert QColor(image.pixel(edge)).name() == STATUS_COLOURS[entry.status], entry.status

    target = items[1]
    chip = grid.chip_rect(target.id)
    assert chip is not None
    qtbot.mouseClick(grid, Qt.MouseButton.LeftButton, pos=chip.center().toPoint())
    qtbot.waitUntil(lambda: page.editor.item is not None and page.editor.item.id == target.id,
                    timeout=10_000)
    assert page.editor.topic.text() == "run" and page.editor.status.text() == "approved"
    assert grid.selected == target.id
    with qtbot.waitSignal(page.calendar_loaded, timeout=10_000):
        page.calendar.month_button.click()
    assert grid.chip_rect(target.id) is not None


def test_drag_to_another_day_moves_the_post_keeping_its_time(qtbot, page: PlansPage) -> None:  # type: ignore[no-untyped-def]
    studio = page.context.studio
    mia = make_mia(studio)
    [post] = seed_plan(studio, mia, [(MONDAY, time(18, 30), "draft", "coffee")])
    page.refresh()
    grid = page.calendar.grid
    qtbot.waitUntil(lambda: grid.chip_rect(post.id) is not None, timeout=10_000)
    target = MONDAY + timedelta(days=3)
    _drag(qtbot, grid, post.id, target)
    qtbot.waitUntil(lambda: page.message.text().startswith("Moved to"), timeout=10_000)
    stored = _stored(studio, post.id)
    local = stored.scheduled_at.astimezone()
    assert (local.date(), local.time()) == (target, time(18, 30))
    assert stored.version == post.version + 1
    qtbot.waitUntil(lambda: (r := grid.chip_rect(post.id)) is not None
                    and grid.day_at(r.center()) == target, timeout=10_000)


def test_drag_of_a_post_changed_elsewhere_is_one_line_and_changes_nothing(  # type: ignore[no-untyped-def]
        qtbot, page: PlansPage, shown_errors: list[str]) -> None:
    studio = page.context.studio
    mia = make_mia(studio)
    [post] = seed_plan(studio, mia, [(MONDAY + timedelta(days=1), time(10, 0), "draft", "coffee")])
    page.refresh()
    grid = page.calendar.grid
    qtbot.waitUntil(lambda: grid.chip_rect(post.id) is not None, timeout=10_000)
    service.edit_item(studio, studio.workspace().id, post.id, {"hook": "changed elsewhere"})
    _drag(qtbot, grid, post.id, MONDAY + timedelta(days=6))
    qtbot.waitUntil(lambda: "changed elsewhere" in page.message.text(), timeout=10_000)
    assert "\n" not in page.message.text() and shown_errors == []
    assert _stored(studio, post.id).scheduled_at.astimezone().date() == MONDAY + timedelta(days=1)


def test_all_influencers_shows_every_persona_with_names(qtbot, page: PlansPage) -> None:  # type: ignore[no-untyped-def]
    studio = page.context.studio
    mia = make_mia(studio)
    ben = create_influencer(studio, studio.workspace().id, Persona(name="Ben", trigger_word="ben_v"))
    [mine] = seed_plan(studio, mia, [(MONDAY, time(9, 0), "draft", "coffee")])
    [his] = seed_plan(studio, ben, [(MONDAY, time(11, 0), "approved", "gym")])
    page.refresh()
    grid = page.calendar.grid
    qtbot.waitUntil(lambda: page.influencer.count() == 2 and len(grid.rows) == 1, timeout=10_000)
    shown = grid.rows[0].item.id
    assert shown in (mine.id, his.id)
    page.calendar.all_influencers.setChecked(True)
    qtbot.waitUntil(lambda: len(grid.rows) == 2, timeout=10_000)
    assert {r.influencer for r in grid.rows} == {"Mia", "Ben"} and grid.show_influencer
    # A post of the other influencer switches the page to it and into the editor.
    other = his.id if shown == mine.id else mine.id
    chip = grid.chip_rect(other)
    assert chip is not None
    qtbot.mouseClick(grid, Qt.MouseButton.LeftButton, pos=chip.center().toPoint())
    qtbot.waitUntil(lambda: page.editor.item is not None and page.editor.item.id == other,
                    timeout=10_000)
    assert page.influencer.currentData() == (ben.id if other == his.id else mia.id)


def _drag(qtbot, grid: CalendarGrid, item_id: uuid.UUID, day: date) -> None:  # type: ignore[no-untyped-def]
    chip, cell = grid.chip_rect(item_id), grid.day_rect(day)
    assert chip is not None and cell is not None
    start, end = chip.center().toPoint(), cell.center().toPoint()
    qtbot.mousePress(grid, Qt.MouseButton.LeftButton, pos=start)
    qtbot.mouseMove(grid, start + QPoint(12, 4))
    qtbot.mouseMove(grid, end)
    assert grid.day_at(QPointF(end)) == day
    qtbot.mouseRelease(grid, Qt.MouseButton.LeftButton, pos=end)


def test_editor_changes_show_in_the_calendar_and_the_list_turns_it(qtbot, page: PlansPage) -> None:  # type: ignore[no-untyped-def]
    studio = page.context.studio
    mia = make_mia(studio)
    later = MONDAY + timedelta(days=14)
    posts = seed_plan(studio, mia, [(MONDAY + timedelta(days=1), time(9, 30), "draft", "coffee"),
                                    (later, time(12, 0), "draft", "haul")])
    page.refresh()
    grid = page.calendar.grid
    qtbot.waitUntil(lambda: page.table.rowCount() == 2 and len(grid.rows) == 1, timeout=10_000)
    # Choosing the later post in the list turns the calendar to its week.
    page.views.setCurrentWidget(page.table)
    page.table.selectRow(1)
    qtbot.waitUntil(lambda: grid.chip_rect(posts[1].id) is not None, timeout=10_000)
    assert page.calendar.range.first == later - timedelta(days=later.weekday())
    page.views.setCurrentWidget(page.calendar)

    # The editor's own date field moves it too; saving approves nothing and keeps the text.
    editor = page.editor
    assert editor.item is not None and editor.item.id == posts[1].id
    editor.when.setDateTime(editor.when.dateTime().addDays(2))
    editor.topic.setText("thrift haul")
    editor.save_button.click()
    qtbot.waitUntil(lambda: page.message.text() == "Saved.", timeout=10_000)
    qtbot.waitUntil(lambda: (r := grid.chip_rect(posts[1].id)) is not None
                    and grid.day_at(r.center()) == later + timedelta(days=2)
                    and grid.rows[0].item.topic == "thrift haul", timeout=10_000)
    stored = _stored(studio, posts[1].id)
    assert stored.status == "draft" and stored.scheduled_at.astimezone().time() == time(12, 0)
    # Approving in the editor recolours the post in the calendar.
    editor.approve_button.click()
    qtbot.waitUntil(lambda: grid.rows and grid.rows[0].item.status == "approved", timeout=10_000)
    chip = grid.chip_rect(posts[1].id)
    assert chip is not None
    assert _colour_at(grid, QPointF(chip.left() + 2, chip.center().y())) == STATUS_COLOURS["approved"]
