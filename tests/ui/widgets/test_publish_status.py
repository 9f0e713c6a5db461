"""A plan item's Publish button and per-platform states: off until produced, a click queues one
job, the posted link shows once the worker posted it; the calendar's note names the link."""
from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from studio.engine.core import Studio
from studio.engine.db.models import PlanItem
from studio.engine.publish.platform import PublishError
from studio.ui.context import StudioContext
from studio.ui.widgets.publish_status import PublishStatus, posted_note
from tests.conftest import run_next_task
from tests.engine.pipelines.helpers import make_item
from tests.engine.publish.produced import ScriptedPlatform, connect_account, produced_item


@pytest.fixture
def platform(studio: Studio, monkeypatch: pytest.MonkeyPatch) -> ScriptedPlatform:
    scripted = ScriptedPlatform()
    monkeypatch.setattr("studio.engine.publish.clients.client_for", lambda _studio, _account: scripted)
    connect_account(studio)
    return scripted


def _fresh(studio: Studio, item: PlanItem) -> PlanItem:
    with studio.db.session() as session:
        return session.get_one(PlanItem, item.id)


def test_publish_is_off_until_the_post_is_produced(qtbot, context: StudioContext, studio: Studio) -> None:
    widget = PublishStatus(context)
    qtbot.addWidget(widget)
    widget.show_item(make_item(studio))
    assert not widget.publish_button.isEnabled()
    assert widget.publish_button.text() == "Publish to Instagram"
    assert widget.posts.text() == "Not produced yet."
    widget.show_item(make_item(studio, platform="youtube-shorts"))
    assert widget.publish_button.text() == "Publish to YouTube"


def test_a_click_posts_once_and_the_link_shows(qtbot, context: StudioContext, studio: Studio,
                                               platform: ScriptedPlatform) -> None:
    item = produced_item(studio)
    widget = PublishStatus(context)
    qtbot.addWidget(widget)
    widget.show_item(item)
    qtbot.waitUntil(lambda: widget.posts.text() == "Not posted yet.")
    assert widget.publish_button.isEnabled()
    qtbot.mouseClick(widget.publish_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "queued" in widget.posts.text())
    assert widget.message.text() == "Queued; the post goes out when a worker takes the job."
    assert not widget.publish_button.isEnabled()  # queued: a second click would do nothing
    run_next_task(studio, "general")
    widget.show_item(_fresh(studio, item))  # as the page hands over the changed post
    qtbot.waitUntil(lambda: "open the post" in widget.posts.text())
    assert "href='https://www.instagram.com/p/C0ffee/'" in widget.posts.text()
    assert not widget.publish_button.isEnabled() and len(platform.posts) == 1
    assert posted_note(_fresh(studio, item)) == "\nPosted on Instagram: https://www.instagram.com/p/C0ffee/"


def test_a_failed_post_shows_why_and_can_be_tried_again(qtbot, context: StudioContext, studio: Studio,
                                                        platform: ScriptedPlatform) -> None:
    platform.outcomes = [PublishError("Error validating access token", reconnect=True)]
    item = produced_item(studio)
    widget = PublishStatus(context)
    qtbot.addWidget(widget)
    widget.show_item(item)
    qtbot.mouseClick(widget.publish_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "queued" in widget.posts.text())
    run_next_task(studio, "general")
    widget.reload()
    qtbot.waitUntil(lambda: "failed" in widget.posts.text())
    assert "reconnect Instagram in Preferences → Automation" in widget.posts.text()
    assert widget.publish_button.isEnabled()
