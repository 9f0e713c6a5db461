"""Generated images for the gallery grid and the results strip: light rows, thumbnails off-thread.

``load_rows`` (blocking, background lanes only) asks the engine's gallery for the Assets a filter
lets through and copies what the grid needs into ``GalleryRow``s. ``GalleryModel`` holds them in
order; asking for a decoration only queues a load in the ``ThumbnailCache``, and the cell repaints
when the picture is ready.
"""
from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from PySide6.QtCore import QAbstractListModel, QModelIndex, QPersistentModelIndex, Qt

from studio.engine.core import Studio
from studio.ui.thumbnails import ThumbnailCache, disk_size

ROW_ROLE = Qt.ItemDataRole.UserRole + 2
Index = QModelIndex | QPersistentModelIndex


@dataclass(frozen=True, slots=True)
class GalleryFilter:
    """What the gallery shows; every field narrows, the defaults show everything."""

    influencer_id: uuid.UUID | None = None
    lora: str | None = None
    job_id: uuid.UUID | None = None
    min_rating: int = 0
    favourites_only: bool = False
    since: datetime | None = None


@dataclass(frozen=True, slots=True)
class GalleryRow:
    """A detached, light copy of a generated image's Asset, made on a background thread."""

    id: uuid.UUID
    job_id: uuid.UUID | None
    influencer_id: uuid.UUID | None
    storage_key: str
    sha256: str
    width: int
    height: int
    created_at: datetime
    rating: int
    favourite: bool
    seed: int | None
    lora: str
    prompt: str
    template: str

    @property
    def name(self) -> str:
        return Path(self.storage_key).name


def _values(recipe: dict[str, Any]) -> dict[str, Any]:
    for key in ("values", "parameters", "params"):
        if isinstance(recipe.get(key), dict):
            return recipe[key]
    return {}


def to_row(asset: Any) -> GalleryRow:
    meta = asset.meta or {}
    recipe = meta.get("recipe") or {}
    values = _values(recipe)
    seed = recipe.get("seed", values.get("seed"))
    lora = recipe.get("lora") or values.get("lora_name") or ""
    if isinstance(lora, dict):
        lora = lora.get("name", "")
    template = recipe.get("template") or recipe.get("workflow") or ""
    if isinstance(template, dict):
        template = template.get("name", "")
    sha = asset.sha256 or hashlib.sha256(asset.storage_key.encode()).hexdigest()
    return GalleryRow(id=asset.id, job_id=asset.job_id, influencer_id=asset.influencer_id,
                      storage_key=asset.storage_key, sha256=sha, width=int(meta.get("width") or 0),
                      height=int(meta.get("height") or 0), created_at=asset.created_at,
                      rating=int(meta.get("rating") or 0), favourite=bool(meta.get("favourite")),
                      seed=seed if isinstance(seed, int) else None, lora=str(lora),
                      prompt=str(values.get("positive") or recipe.get("positive") or ""),
                      template=str(template))


def load_rows(studio: Studio, workspace_id: uuid.UUID, spec: GalleryFilter) -> list[GalleryRow]:
    """Blocking: the generated images ``spec`` lets through, newest first."""
    from studio.engine.comfyui.gallery import list_generated

    assets = list_generated(studio, workspace_id, influencer_id=spec.influencer_id, lora=spec.lora,
                            job_id=spec.job_id, min_rating=spec.min_rating,
                            favourites_only=spec.favourites_only, since=spec.since)
    return [to_row(a) for a in assets]


class GalleryModel(QAbstractListModel):
    """Rows in the order given; the thumbnail cache decodes, the model only asks."""

    def __init__(self, thumbnails: ThumbnailCache, assets_dir: Path, parent: Any = None, *,
                 thumb_size: int = 160) -> None:
        super().__init__(parent)
        self.thumbnails = thumbnails
        self.assets_dir = assets_dir
        self.thumb_size = thumb_size
        self._rows: list[GalleryRow] = []
        self._by_sha: dict[str, list[int]] = {}
        thumbnails.thumbnail_ready.connect(self._on_thumbnail_ready)
        thumbnails.thumbnail_failed.connect(self._on_thumbnail_ready)

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self._rows)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.row() >= len(self._rows):
            return None
        row = self._rows[index.row()]
        if role == Qt.ItemDataRole.DecorationRole:
            return self.thumbnails.request(row.sha256, disk_size(self.thumb_size),
                                           self.assets_dir / row.storage_key)
        if role == Qt.ItemDataRole.DisplayRole:
            return row.name
        if role == ROW_ROLE:
            return row
        if role == Qt.ItemDataRole.ToolTipRole:
            size = f"{row.width}×{row.height}" if row.width else ""
            seed = f"seed {row.seed}" if row.seed is not None else ""
            parts = [p for p in (size, seed, row.lora, row.prompt[:120]) if p]
            return "\n".join(parts) or row.name
        return None

    def set_rows(self, rows: Sequence[GalleryRow]) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self._by_sha = {}
        for position, row in enumerate(self._rows):
            self._by_sha.setdefault(row.sha256, []).append(position)
        self.endResetModel()

    def update_row(self, asset_id: uuid.UUID, **changes: Any) -> GalleryRow | None:
        """A row changed here (rating, favourite) repaints in place."""
        position = self.position(asset_id)
        if position < 0:
            return None
        self._rows[position] = replace(self._rows[position], **changes)
        cell = self.index(position)
        self.dataChanged.emit(cell, cell)
        return self._rows[position]

    def rows(self) -> list[GalleryRow]:
        return list(self._rows)

    def row_at(self, position: int) -> GalleryRow | None:
        return self._rows[position] if 0 <= position < len(self._rows) else None

    def position(self, asset_id: uuid.UUID) -> int:
        return next((p for p, r in enumerate(self._rows) if r.id == asset_id), -1)

    def _on_thumbnail_ready(self, sha256: str, *_: object) -> None:
        for position in self._by_sha.get(sha256, ()):
            cell = self.index(position)
            self.dataChanged.emit(cell, cell, [Qt.ItemDataRole.DecorationRole])
