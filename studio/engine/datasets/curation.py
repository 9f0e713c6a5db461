"""What the bulk curation steps would exclude, decided on the light rows: near-duplicate groups
with the picture each keeps, and the pictures under a sharpness threshold.

Pure functions of ``ImageRow``s, so the page can preview a step before it is taken and the
command line can decide the same way.
"""
from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from studio.engine.datasets.filters import ImageRow


@dataclass(frozen=True, slots=True)
class DuplicateGroup:
    number: int
    members: tuple[ImageRow, ...]  # the keeper first, then import order
    keeper: uuid.UUID

    def others(self) -> list[uuid.UUID]:
        """The members that the group's exclusion takes out: all but the keeper."""
        return [row.id for row in self.members if row.id != self.keeper]


def _upright(row: ImageRow, portrait_group: bool) -> bool:
    """Whether the picture is oriented like most of its group (a turned copy is not)."""
    return (row.height > row.width) == portrait_group or row.height == row.width


def keeper_of(members: Sequence[ImageRow]) -> ImageRow:
    """Not turned sideways, then the largest, then the sharpest, then the first imported; an
    image still included wins over one already excluded."""
    portrait = sum(r.height > r.width for r in members) * 2 > len(members)
    return min(members, key=lambda r: (r.excluded, not _upright(r, portrait), -(r.width * r.height),
                                       -(r.sharpness or 0.0), r.created_at))


def duplicate_groups(rows: Iterable[ImageRow]) -> list[DuplicateGroup]:
    """Groups of two or more near-duplicates, by group number, each with its keeper first."""
    groups: dict[int, list[ImageRow]] = {}
    for row in rows:
        if row.near_dup_group is not None:
            groups.setdefault(row.near_dup_group, []).append(row)
    found = []
    for number in sorted(groups):
        members = groups[number]
        if len(members) > 1:
            keeper = keeper_of(members)
            ordered = (keeper, *(r for r in members if r is not keeper))
            found.append(DuplicateGroup(number=number, members=ordered, keeper=keeper.id))
    return found


def blurry_rows(rows: Iterable[ImageRow], threshold: float) -> list[ImageRow]:
    """Analysed pictures still included whose sharpness is under ``threshold``, softest first."""
    soft = [r for r in rows if not r.excluded and r.sharpness is not None and r.sharpness < threshold]
    return sorted(soft, key=lambda r: (r.sharpness or 0.0, r.created_at))
