"""The Post a produced plan item makes: its files, its caption and title, and where the
platforms can fetch the files.

The files come from the item's pipeline: the publish folder (``post.jpg`` or ``post.mp4`` and a
``cover.jpg``) when that step ran, else the export step's files. Instagram fetches media from a
public URL instead of taking an upload, so each file also gets one where the studio can give it:

- connected to a team server: a pre-signed GET URL of the server's S3 bucket (the file is put
  there first, under the workspace's own prefix);
- else ``publish.public_url_prefix`` followed by the file's name relative to the publish folder
  (the user syncs that folder to a web server or public bucket answering at the prefix);
- else none: Instagram then refuses plainly, TikTok and YouTube upload the file itself.
"""
from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote

from studio.engine.core import Studio
from studio.engine.db.models import PlanItem
from studio.engine.errors import InvalidInput
from studio.engine.pipelines.publish import caption_text
from studio.engine.publish.platform import Post
from studio.engine.storage.policy import AREAS

VIDEO_SUFFIXES = (".mp4", ".mov", ".m4v", ".webm")
URL_LIFETIME_S = 24 * 3600  # long enough for a container Instagram processes for an hour or more
TITLE_LIMIT = 100  # YouTube's longest title


def produced(item: PlanItem) -> bool:
    """Whether the item's pipeline has finished its files."""
    state = item.pipeline or {}
    return bool((state.get("publish") or {}).get("done") or (state.get("export") or {}).get("done"))


def posted(item: PlanItem) -> dict[str, str]:
    """Where the item was published, platform by platform: the post's link (the publish job
    notes it in the pipeline's publish entry)."""
    step = (item.pipeline or {}).get("publish")
    found = step.get("posted") if isinstance(step, dict) else None
    if not isinstance(found, dict):
        return {}
    return {str(p): str(e.get("url") or "") for p, e in found.items()
            if isinstance(e, dict) and e.get("status") == "published"}


def post_for(studio: Studio, item: PlanItem, *, ai_generated: bool = True) -> Post:
    """The Post of a produced item; a plain InvalidInput when it has no files yet."""
    files, cover, folder = _files_of(studio, item)
    kind: Literal["image", "video", "carousel"] = "image"
    if files[0].suffix.lower() in VIDEO_SUFFIXES:
        kind = "video"
    elif len(files) > 1:
        kind = "carousel"
    urls = public_urls(studio, item.workspace_id, item.id, [*files, *([cover] if cover else [])], folder)
    cover_url = urls[-1] if cover and urls else ""
    tags = tuple(str(t).lstrip("#").strip() for t in (item.hashtags or []) if str(t).strip("# "))
    return Post(kind=kind, files=tuple(files), caption=caption_text(item).strip(), title=title_of(item),
                tags=tags, cover=cover, public_urls=tuple(urls[:len(files)]), cover_url=cover_url,
                ai_generated=ai_generated)


def title_of(item: PlanItem) -> str:
    text = " ".join((item.hook or item.topic or item.caption).split())
    return text if len(text) <= TITLE_LIMIT else text[:TITLE_LIMIT - 1].rstrip() + "…"


def _files_of(studio: Studio, item: PlanItem) -> tuple[list[Path], Path | None, Path | None]:
    """The media files in order, the cover, and the publish folder they are in (if any)."""
    state: dict[str, Any] = item.pipeline or {}
    folder_text = (state.get("publish") or {}).get("folder")
    if folder_text and Path(folder_text).is_dir():
        folder = Path(folder_text)
        media = sorted(p for p in folder.glob("post*") if p.suffix.lower() != ".json")
        cover = folder / "cover.jpg"
        if media:
            return media, cover if cover.is_file() else None, folder
    listed = [Path(f) for f in (state.get("export") or {}).get("files", [])]
    exported = [_here(studio, item.workspace_id, p) for p in listed]
    media = [p for p in exported if not p.name.endswith("-cover.jpg") and p.is_file()]
    covers = [p for p in exported if p.name.endswith("-cover.jpg") and p.is_file()]
    if not media and listed:
        raise InvalidInput("This post's files are on the machine that produced it, not here nor in the "
                           "team server's bucket; publish it from that machine.")
    if not media:
        raise InvalidInput("This post has no finished files yet; produce it first (plan run ITEM).")
    return media, covers[0] if covers else None, None


def _here(studio: Studio, workspace_id: uuid.UUID, path: Path) -> Path:
    """An exported file on this machine: as recorded, else at its asset key here, fetched from the
    team server's bucket when this machine lacks it (another desk or worker produced the post)."""
    if path.is_file():
        return path
    parts = path.parts
    starts = [i for i in range(len(parts) - 1) if parts[i] in AREAS and parts[i + 1] == str(workspace_id)]
    if not starts:
        return path
    key = "/".join(parts[starts[-1]:])
    local = studio.paths.assets_dir / key
    if not local.is_file():
        from studio.engine.server.assets import team_store
        store = team_store(studio.settings, studio.paths, studio.secrets)
        if store is not None and store.exists(key):
            store.get_file(key, local)
    return local


def public_urls(studio: Studio, workspace_id: uuid.UUID, item_id: uuid.UUID, files: list[Path],
                folder: Path | None) -> list[str]:
    """The files' public URLs, in order; empty when the studio has no way to give them."""
    from studio.engine.server.assets import team_store
    store = team_store(studio.settings, studio.paths, studio.secrets)
    if store is not None:
        keys = [_bucket_key(studio, workspace_id, item_id, path) for path in files]
        for path, key in zip(files, keys, strict=True):
            store.put_file(path, key)  # skipped when the bucket already has these bytes
        return [store.client.generate_presigned_url(
            "get_object", Params={"Bucket": store.bucket, "Key": key}, ExpiresIn=URL_LIFETIME_S)
            for key in keys]
    prefix = studio.settings.publish.public_url_prefix.strip()
    if not prefix or folder is None:
        return []
    root = folder.parent
    return [f"{prefix.rstrip('/')}/{quote(path.relative_to(root).as_posix())}" for path in files]


def _bucket_key(studio: Studio, workspace_id: uuid.UUID, item_id: uuid.UUID, path: Path) -> str:
    """The file's asset key when it is an asset (the export's own), else a key under the
    workspace's images prefix (the bucket's policy lets a workspace write only there)."""
    try:
        return path.resolve().relative_to(studio.paths.assets_dir.resolve()).as_posix()
    except ValueError:
        return f"images/{workspace_id}/publish/{item_id}/{path.name}"
