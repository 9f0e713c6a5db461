"""What the bulk curation steps would exclude: keepers of near-duplicate groups, blurry pictures."""
from __future__ import annotations

import uuid
from datetime import timedelta

from studio.engine.datasets.curation import blurry_rows, duplicate_groups, keeper_of
from tests.engine.datasets.rows import T0, row


def member(name: str, **fields: object):  # type: ignore[no-untyped-def]
    return row(name, id=uuid.uuid4(), near_dup_group=fields.pop("group", 1), **fields)


def test_the_keeper_is_upright_then_largest_then_sharpest() -> None:
    small_sharp = member("small.jpg", width=512, height=768, sharpness=900.0)
    large_soft = member("large.jpg", width=1024, height=1536, sharpness=120.0)
    turned = member("turned.jpg", width=2000, height=1000, sharpness=999.0)
    assert keeper_of([small_sharp, large_soft, turned]) is large_soft
    twin = member("twin.jpg", width=1024, height=1536, sharpness=300.0, created_at=T0 + timedelta(1))
    assert keeper_of([small_sharp, large_soft, twin]) is twin
    assert keeper_of([member("a", excluded=True, width=4000, height=4000), small_sharp]) is small_sharp


def test_groups_of_one_are_not_groups_and_the_keeper_comes_first() -> None:
    a = member("a.jpg", width=300, height=300)
    b = member("b.jpg", width=600, height=600)
    alone = member("alone.jpg", group=2)
    [group] = duplicate_groups([a, b, alone, row("none.jpg")])
    assert group.number == 1 and group.keeper == b.id
    assert [m.name for m in group.members] == ["b.jpg", "a.jpg"]
    assert group.others() == [a.id]


def test_blurry_rows_follow_the_threshold_softest_first() -> None:
    rows = [row("sharp", sharpness=400.0), row("soft", sharpness=20.0), row("mid", sharpness=90.0),
            row("unread", sharpness=None), row("gone", sharpness=1.0, excluded=True)]
    assert [r.name for r in blurry_rows(rows, 100.0)] == ["soft", "mid"]
    assert [r.name for r in blurry_rows(rows, 50.0)] == ["soft"]
