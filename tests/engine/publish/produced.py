"""What the publishing tests here, in tests/cli, tests/engine/api and tests/ui share: a produced
post (its publish folder written as the pipeline writes it), a connected account, and a
stand-in platform client that answers as it is told."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from PIL import Image

from studio.engine.core import Studio
from studio.engine.db.models import PlanItem, PublishAccount
from studio.engine.db.repositories import Repository
from studio.engine.pipelines.publish import publish_item
from studio.engine.publish.platform import Post, Progress, Published, PublishError
from tests.engine.pipelines.helpers import make_item


def produced_item(studio: Studio, *, platform: str = "instagram") -> PlanItem:
    """An item whose pipeline finished: an exported JPEG and its publish folder."""
    item = make_item(studio, platform=platform, status="ready")
    exported = studio.paths.assets_dir / f"images/{item.workspace_id}/export/{item.id}.jpg"
    exported.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (108, 135), (200, 120, 60)).save(exported, quality=90)
    root = Path(studio.settings.pipeline.publish_dir or studio.paths.data_dir / "publish")
    folder = publish_item(root, item, "Mira", [exported], {})
    state = {"image": {"done": True, "files": [str(exported)]},
             "export": {"done": True, "files": [str(exported)]},
             "publish": {"done": True, "folder": str(folder)}}
    with studio.db.session() as session:
        repo = Repository(session, item.workspace_id)
        return repo.update(repo.get(PlanItem, item.id), pipeline=state)


def connect_account(studio: Studio, platform: str = "instagram", *, name: str = "mira.travels",
                    expires_at: datetime | None = None) -> PublishAccount:
    """An account row as connecting leaves it (its tokens are the token source's business)."""
    with studio.db.session() as session:
        return Repository(session, studio.workspace().id).add(PublishAccount(
            platform=platform, account_id="17841400000000001", name=name, scopes=["publish"],
            expires_at=expires_at or datetime(2027, 2, 1, tzinfo=UTC)))


@dataclass
class ScriptedPlatform:
    """A platform client that records each post and answers with the next scripted outcome."""

    name: str = "instagram"
    outcomes: list[Published | PublishError] = field(default_factory=list)
    posts: list[Post] = field(default_factory=list)

    def publish(self, post: Post, progress: Progress) -> Published:
        self.posts.append(post)
        progress(0.5, "container created")
        outcome = self.outcomes.pop(0) if self.outcomes else Published(
            remote_id="18000000000000001", url="https://www.instagram.com/p/C0ffee/")
        if isinstance(outcome, PublishError):
            raise outcome
        return outcome
