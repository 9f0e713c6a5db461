"""The hand-off folder of a finished post: what a creator uploads, nothing posted for them.

    2026-12-01_0930-instagram-sunset-at-the-miradouro/
        post.mp4 (or post.jpg)   the exported file
        cover.jpg                the cover frame, for a video
        caption.txt              the caption, a blank line, the hashtags
        post.json                platform, time, texts, files and the jobs that made them

The folder is written beside its final name and renamed, so it is whole or absent.
"""
from __future__ import annotations

import json
import re
import shutil
import tempfile
from pathlib import Path

from studio.engine.db.models import PlanItem

_SLUG = re.compile(r"[^a-z0-9]+")


def folder_name(item: PlanItem) -> str:
    topic = _SLUG.sub("-", item.topic.lower()).strip("-")[:48].rstrip("-") or "post"
    return f"{item.scheduled_at:%Y-%m-%d_%H%M}-{item.platform}-{topic}"


def caption_text(item: PlanItem) -> str:
    tags = " ".join(f"#{t.lstrip('#')}" for t in (item.hashtags or []) if str(t).strip())
    return item.caption.strip() + (f"\n\n{tags}" if tags else "") + "\n"


def publish_item(root: Path, item: PlanItem, influencer: str, files: list[Path],
                 jobs: dict[str, str | None]) -> Path:
    """Writes the folder under ``root`` (replacing an earlier one of the same post)."""
    media, *rest = files
    root.mkdir(parents=True, exist_ok=True)
    target = root / folder_name(item)
    staging = Path(tempfile.mkdtemp(prefix=".publishing-", dir=root))
    try:
        names = {"media": f"post{media.suffix.lower()}"}
        shutil.copyfile(media, staging / names["media"])
        covers = [f for f in rest if f.name.endswith("-cover.jpg")]
        if covers:
            names["cover"] = "cover.jpg"
            shutil.copyfile(covers[0], staging / "cover.jpg")
        (staging / "caption.txt").write_text(caption_text(item), encoding="utf-8")
        post = {"platform": item.platform, "scheduled_at": item.scheduled_at.isoformat(),
                "influencer": influencer, "topic": item.topic, "hook": item.hook,
                "caption": item.caption, "hashtags": list(item.hashtags or []),
                "files": names, "plan_item_id": str(item.id),
                "jobs": {k: v for k, v in jobs.items() if v}}
        (staging / "post.json").write_text(json.dumps(post, indent=2, ensure_ascii=False) + "\n",
                                           encoding="utf-8")
        if target.exists():
            shutil.rmtree(target)
        staging.rename(target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target
