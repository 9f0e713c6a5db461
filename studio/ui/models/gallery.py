"""Generated images for the gallery grid and the results strip: light rows, thumbnails off-thread.

The engine's gallery makes the ``GalleryRow``s (``gallery_rows``, blocking, background lanes only).
``GalleryModel`` holds them in order; asking for a decoration only queues a load in the
``ThumbnailCache``, and the cell repaints when the picture is ready.
"""
from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from PySide6.QtCore import QAbstractListModel, QModelIndex, QPersistentModelIndex, Qt

from studio.engine.comfyui.gallery import GalleryRow
from studio.ui.thumbnails import ThumbnailCache, disk_size

ROW_ROLE = Qt.ItemDataRole.UserRole + 2
Index = QModelIndex | QPersistentModelIndex


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
            likeness = f"identity {row.identity:.2f}" if row.identity is not None else row.identity_note
            parts = [p for p in (size, seed, likeness, row.lora, row.prompt[:120]) if p]
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
