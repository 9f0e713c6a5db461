"""A plan job that failed (writing a plan, rewriting a post) shows on the Plans page in the
failure banner: its reason, Retry, and the button that helps ("Raise budget…" when the budget
refused it, "Open Settings…" when the model or key is missing)."""
from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from studio.ui.widgets.failure_banner import FailureBanner

if TYPE_CHECKING:
    from studio.ui.pages.plans import PlansPage


def plan_job_banner(page: PlansPage) -> FailureBanner:
    """The banner, under the page's message line, following the plan jobs the page starts."""
    banner = FailureBanner(page, hub=page.context.jobs)
    layout = page.layout()
    if layout is not None:
        layout.insertWidget(layout.indexOf(page.message) + 1, banner)  # type: ignore[attr-defined]

    def retried(ids: list[uuid.UUID]) -> None:
        if ids:
            page.bar.show()
            page.follower.follow(ids[0])

    page.job_finished.connect(lambda state: banner.show_jobs([state]))  # hides on success
    banner.retried.connect(retried)
    return banner
