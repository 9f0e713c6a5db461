"""A produced post's publishing: a Publish button and, per platform, where it stands.

The button posts the chosen post to its own platform (a ``publish-post`` job, once per post and
platform however often it is clicked); it is off until the post's files are made. Each platform
the post went to shows its state, the post's link once published, or the error in plain words.
The states are read off the UI thread when the post is chosen, when it changes and when a
publish job changes state (the job hub's snapshots).
"""
from __future__ import annotations

import html
import uuid

from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from studio.engine.db.changes import ChangeSet, Entity
from studio.engine.db.models import PlanItem
from studio.engine.errors import StudioError
from studio.engine.jobs.snapshot import JobSnapshot
from studio.engine.publish.clients import display_name, platform_name
from studio.engine.publish.media import posted, produced
from studio.engine.publish.service import JOB_TYPE, PostState, post_states, submit_publish
from studio.ui.context import StudioContext
from studio.ui.errors import one_line
from studio.ui.tasks import run_in_background
from studio.ui.theme_style import tone

STATE_TONES = {"published": "ok", "pending": "running", "uploading": "running", "failed": "error",
               "manual": "warning"}
STATE_WORDS = {"pending": "queued", "uploading": "posting…", "published": "published",
               "failed": "failed", "manual": "left for posting by hand"}


def posted_note(item: PlanItem) -> str:
    """The calendar's tooltip lines for a posted item: each platform and the post's link."""
    return "".join(f"\nPosted on {display_name(p)}: {url}" for p, url in posted(item).items())


class PublishStatus(QWidget):
    def __init__(self, context: StudioContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.item: PlanItem | None = None
        self.states: list[PostState] = []
        title = QLabel("<b>Publishing</b>", self)
        self.publish_button = QPushButton("Publish", self)
        self.publish_button.clicked.connect(self._on_publish_clicked)
        self.posts = QLabel(self)
        self.posts.setObjectName("publish-states")
        self.posts.setWordWrap(True)
        self.posts.setOpenExternalLinks(True)  # the post's link opens in the browser
        self.message = QLabel(self)
        self.message.setWordWrap(True)
        buttons = QHBoxLayout()
        buttons.addWidget(self.publish_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(title)
        layout.addLayout(buttons)
        layout.addWidget(self.posts)
        layout.addWidget(self.message)
        context.live.changed.connect(self._on_changed)
        context.jobs.jobs_changed.connect(self._on_jobs_changed)
        self.show_item(None)

    def show_item(self, item: PlanItem | None) -> None:
        same = item is not None and self.item is not None and item.id == self.item.id
        self.item = item
        if not same:
            self.states = []
            self.message.clear()
        self._update()
        if item is not None:
            self.reload()

    def reload(self) -> None:
        if self.item is None:
            return
        studio, workspace_id, item_id = self.context.studio, self.context.workspace_id, self.item.id
        run_in_background(lambda: post_states(studio, workspace_id, item_id), receiver=self,
                          on_done=lambda states: self._on_read(item_id, states),
                          on_error=lambda exc: self.message.setText(one_line(exc)))

    def _on_read(self, item_id: uuid.UUID, states: list[PostState]) -> None:
        if self.item is not None and item_id == self.item.id:
            self.states = states
            self._update()

    def _update(self) -> None:
        item = self.item
        self.setVisible(item is not None)
        if item is None:
            return
        try:
            where = display_name(platform_name(item.platform))
        except StudioError:
            where = item.platform
        ready = produced(item)
        self.publish_button.setText(f"Publish to {where}")
        self.publish_button.setEnabled(ready and not self._busy_or_done(item))
        self.publish_button.setToolTip("Post it now through the platform's API (a job)" if ready
                                       else "Produce the post first (Run pipeline)")
        self.posts.setText(self._states_html() or ("Not posted yet." if ready else "Not produced yet."))

    def _busy_or_done(self, item: PlanItem) -> bool:
        try:
            mine = platform_name(item.platform)
        except StudioError:
            return True
        return any(s.platform == mine and s.status in ("pending", "uploading", "published")
                   for s in self.states)

    def _states_html(self) -> str:
        lines = []
        for state in self.states:
            colour = tone(STATE_TONES.get(state.status, "warning"), self.palette())
            words = html.escape(STATE_WORDS.get(state.status, state.status))
            line = f"{display_name(state.platform)}: <span style='color:{colour}'>{words}</span>"
            if state.url:
                line += f" — <a href='{html.escape(state.url, quote=True)}'>open the post</a>"
            if state.note and state.status == "published":
                line += f"<br>{html.escape(state.note)}"
            elif state.status == "failed" and state.error:
                reason = state.error.removeprefix(f"{display_name(state.platform)}: ")
                line += f"<br>{html.escape(reason)}"
            lines.append(line)
        return "<br>".join(lines)

    def _on_publish_clicked(self) -> None:
        if self.item is None:
            return
        studio, item_id, platform = self.context.studio, self.item.id, self.item.platform
        self.publish_button.setEnabled(False)
        self.message.setText("Queuing the post…")
        run_in_background(lambda: submit_publish(studio, item_id, platform), receiver=self,
                          on_done=self._on_queued, on_error=self._on_queue_failed)

    def _on_queued(self, job: object) -> None:
        self.message.setText("Queued; the post goes out when a worker takes the job." if job is not None
                             else "Already posted or being posted there.")
        self.reload()

    def _on_queue_failed(self, exc: BaseException) -> None:
        self.message.setText(one_line(exc))
        self._update()

    def _on_changed(self, changes: ChangeSet) -> None:
        if self.item is None:
            return
        if changes.touches(Entity.PUBLICATION, workspace_id=self.context.workspace_id):
            self.reload()  # a post's state on a platform (another process's job, say)
            return
        if not changes.touches(Entity.PLAN_ITEM, workspace_id=self.context.workspace_id):
            return
        ids = changes.ids(Entity.PLAN_ITEM)
        if not ids or self.item.id in ids:
            self.reload()

    def _on_jobs_changed(self, snapshots: list[JobSnapshot]) -> None:
        if self.item is not None and any(s.type == JOB_TYPE for s in snapshots):
            self.reload()
