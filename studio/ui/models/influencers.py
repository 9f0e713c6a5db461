"""The influencer list: detached rows with their portrait thumbnails, loaded off the UI thread."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QAbstractListModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QIcon, QImage, QPixmap

from studio.engine.core import Studio
from studio.engine.db.models import Influencer
from studio.engine.influencers import Persona, avatar_path, list_influencers
from studio.engine.media.thumbnails import thumbnail_path

THUMB_SIZE = 128
ID_ROLE = Qt.ItemDataRole.UserRole + 1


@dataclass(frozen=True, slots=True)
class InfluencerRow:
    id: uuid.UUID
    version: int
    persona: Persona
    has_avatar: bool
    thumbnail: QImage | None  # decoded on the background thread; QImage may be, QPixmap not

    @property
    def name(self) -> str:
        return self.persona.name


def load_rows(studio: Studio, workspace_id: uuid.UUID) -> list[InfluencerRow]:
    """Blocking: database reads and thumbnail decoding."""
    rows: list[InfluencerRow] = []
    for found in list_influencers(studio, workspace_id):
        avatar = avatar_path(studio, workspace_id, found)
        image = None
        if avatar is not None:
            thumb = thumbnail_path(studio.paths.cache_dir, avatar[1], THUMB_SIZE)
            if thumb.is_file():
                image = QImage(str(thumb))
                image = None if image.isNull() else image
        rows.append(InfluencerRow(found.id, found.version, persona_of(found), avatar is not None,
                                  image))
    return rows


def persona_of(found: Influencer) -> Persona:
    return Persona(name=found.name, trigger_word=found.trigger_word, tone=found.tone,
                   style=found.style, voice=found.voice, topics=list(found.topics or []),
                   language=found.language, notes=found.notes)


def saved_row(found: Influencer, before: InfluencerRow | None) -> InfluencerRow:
    """The row a save leaves, as stored (the engine tidies what was typed); the portrait as it was."""
    thumbnail = before.thumbnail if before else None
    return InfluencerRow(found.id, found.version, persona_of(found),
                         found.avatar_asset_id is not None, thumbnail)


class InfluencerListModel(QAbstractListModel):
    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._rows: list[InfluencerRow] = []
        self._icons: dict[uuid.UUID, QIcon] = {}

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self._rows)

    def data(self, index: QModelIndex | QPersistentModelIndex,
             role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row = self._rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            trigger = f"\n{row.persona.trigger_word}" if row.persona.trigger_word else ""
            return f"{row.name}{trigger}"
        if role == Qt.ItemDataRole.DecorationRole:
            return self._icons.get(row.id)
        if role == ID_ROLE:
            return row.id
        if role == Qt.ItemDataRole.ToolTipRole:
            return ", ".join(row.persona.topics) or row.name
        return None

    def set_rows(self, rows: list[InfluencerRow]) -> None:
        self.beginResetModel()
        self._rows = rows
        self._icons = {r.id: QIcon(QPixmap.fromImage(r.thumbnail)) for r in rows if r.thumbnail}
        self.endResetModel()

    def row_of(self, influencer_id: uuid.UUID) -> int:
        return next((i for i, r in enumerate(self._rows) if r.id == influencer_id), -1)

    def at(self, position: int) -> InfluencerRow | None:
        return self._rows[position] if 0 <= position < len(self._rows) else None

    def waiting_for_thumbnails(self) -> bool:
        return any(r.has_avatar and r.thumbnail is None for r in self._rows)
