"""The gallery by identity: only pictures that look like her, most like her first."""
from __future__ import annotations

import pytest

from studio.engine.comfyui import gallery
from studio.engine.comfyui.gallery import BY_IDENTITY, GalleryFilter, gallery_rows
from studio.engine.core import Studio
from studio.engine.db.models import Influencer
from studio.engine.errors import InvalidInput
from studio.engine.identity.descriptors import SAME_PERSON_SCORE
from tests.engine.comfyui.helpers import reload, run_next, submit
from tests.engine.comfyui.identity_helpers import by_seed, set_references
from tests.fakes.comfyui_server import FakeComfyUI

PEOPLE = {1: "hopper", 2: "astronaut", 3: "luis"}  # seed 4: the fake's faceless picture


@pytest.fixture
def four(studio: Studio, fake: FakeComfyUI, mia: Influencer) -> dict[int | None, gallery.GalleryRow]:
    """Four pictures of Mia's, by seed: her, two other people and one without a face."""
    set_references(studio, mia, "astronaut")
    fake.picture_for = by_seed(PEOPLE)
    jobs = submit(studio, influencer=mia, seed=1, count=4)
    for job in jobs:
        run_next(studio)
        assert reload(studio, job).status == "completed"
    rows = gallery_rows(studio, workspace_id=studio.workspace().id, spec=GalleryFilter())
    return {row.seed: row for row in rows}


def test_rows_carry_the_score_and_a_minimum_keeps_only_her(
        studio: Studio, four: dict[int | None, gallery.GalleryRow]) -> None:
    her, hopper, luis, faceless = four[2], four[1], four[3], four[4]
    assert her.identity is not None and her.identity >= SAME_PERSON_SCORE
    assert hopper.identity is not None and luis.identity is not None
    assert max(hopper.identity, luis.identity) < SAME_PERSON_SCORE
    assert (faceless.identity, faceless.identity_note) == (None, "no face found")

    ws = studio.workspace().id
    like_her = gallery_rows(studio, workspace_id=ws, spec=GalleryFilter(min_identity=SAME_PERSON_SCORE))
    assert [r.id for r in like_her] == [her.id]
    lower = min(hopper.identity, luis.identity)
    assert {r.id for r in gallery_rows(studio, workspace_id=ws, spec=GalleryFilter(min_identity=lower))} == {
        her.id, hopper.id, luis.id}  # a score of 0 passes 0, an unscored picture never does
    with pytest.raises(InvalidInput, match="from 0 to 1, not 1.5"):
        gallery_rows(studio, workspace_id=ws, spec=GalleryFilter(min_identity=1.5))


def test_sorting_by_identity_puts_her_first_and_unscored_last(
        studio: Studio, four: dict[int | None, gallery.GalleryRow]) -> None:
    ws = studio.workspace().id
    newest = gallery_rows(studio, workspace_id=ws, spec=GalleryFilter())
    assert newest[0].seed == 4  # made last
    ranked = gallery_rows(studio, workspace_id=ws, spec=GalleryFilter(sort=BY_IDENTITY))
    scores = [r.identity for r in ranked]
    assert ranked[0].seed == 2 and ranked[-1].seed == 4 and scores[-1] is None
    assert scores[:3] == sorted(scores[:3], reverse=True)  # type: ignore[type-var]
    with pytest.raises(InvalidInput, match="sorts by newest or identity"):
        gallery_rows(studio, workspace_id=ws, spec=GalleryFilter(sort="rating"))
