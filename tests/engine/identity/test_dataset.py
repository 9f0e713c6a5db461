"""Identity verdicts on a dataset: one person's variations plus someone else, a group picture and
a picture without a face; counts, clusters, her crop and the undoable exclusion."""
from __future__ import annotations

import pytest

from studio.engine.core import Studio
from studio.engine.datasets import captions
from studio.engine.datasets.crops import reset_crop, set_manual_crop
from studio.engine.datasets.service import list_images
from studio.engine.db.models import Dataset, DatasetImage
from studio.engine.identity import references
from studio.engine.identity.dataset import (
    DIFFERENT,
    NO_FACE,
    SEVERAL,
    clusters,
    exclude_flagged,
    flag_counts,
    flagged_ids,
    judge_dataset,
)
from tests.engine.datasets.caption_helpers import make_dataset
from tests.engine.identity.people import VARIANTS, add_faceless, add_person


@pytest.fixture
def mixed(studio: Studio) -> Dataset:
    """Her variations, one picture of someone else, the three of them together, and no face."""
    dataset = make_dataset(studio)
    for seed, kind in enumerate(VARIANTS):
        add_person(studio, dataset, seed, "astronaut", kind)
    add_person(studio, dataset, 10, "hopper")
    add_person(studio, dataset, 11, "group")
    add_faceless(studio, dataset, 12)
    references.refresh(studio, dataset.influencer_id)  # auto: her largest cluster, then the verdicts
    return dataset


def _by_name(studio: Studio, dataset: Dataset) -> dict[str, DatasetImage]:
    return {i.original_name: i for i in list_images(studio, dataset)}


def test_only_the_other_person_is_flagged_different(studio: Studio, mixed: Dataset) -> None:
    images = _by_name(studio, mixed)
    assert flagged_ids(studio, mixed.id, DIFFERENT) == [images["img_010.jpg"].id]
    assert flag_counts(studio, mixed.id) == {DIFFERENT: 1, SEVERAL: 1, NO_FACE: 1}
    for seed in range(len(VARIANTS)):
        verdict = images[f"img_{seed:03d}.jpg"].identity or {}
        assert verdict["flags"] == [] and verdict["score"] > 0.6 and verdict["distance"] < 0.45
        assert verdict["revision"] == 1 and verdict["cluster"] == [1]
    assert images["img_010.jpg"].identity["distance"] > 0.6  # type: ignore[index]
    assert images["img_012.png"].identity == {"distance": None, "score": None, "face": None,
                                              "flags": [NO_FACE], "cluster": [], "revision": 1}


def test_a_group_picture_names_her_face(studio: Studio, mixed: Dataset) -> None:
    crowd = _by_name(studio, mixed)["img_011.jpg"]
    verdict = crowd.identity or {}
    assert verdict["flags"] == [SEVERAL] and len(crowd.faces) == 3
    x, _y, w, _h = crowd.faces[verdict["face"]]
    assert x + w / 2 < crowd.width / 3  # the astronaut is on the left of the three


def test_the_crop_frames_her_not_the_largest_face(studio: Studio, mixed: Dataset) -> None:
    add_person(studio, mixed, 13, "pair")
    judge_dataset(studio, mixed.id)
    both = _by_name(studio, mixed)["img_013.jpg"]
    (hx, _hy, hw, _hh), (ox, _oy, ow, _oh) = both.faces  # hers on the left, the larger one right
    assert ow > 1.5 * hw and (both.identity or {})["face"] == 0
    crop = both.crop or {}
    assert crop["x"] <= hx and hx + hw <= crop["x"] + crop["w"] < ox + ow
    set_manual_crop(studio, mixed.workspace_id, both.id, (700, 0, 700, 1000))
    assert reset_crop(studio, mixed.workspace_id, both.id).crop == crop  # back to her framing


def test_clusters_group_her_pictures_first(studio: Studio, mixed: Dataset) -> None:
    images = _by_name(studio, mixed)
    found = clusters(studio, mixed.id)
    assert [c.number for c in found] == list(range(1, len(found) + 1))
    first = found[0]
    assert first.size == len(VARIANTS) + 1 == len(first.members)  # her variations and her group face
    assert {m[0] for m in first.members} == {images[f"img_{s:03d}.jpg"].id for s in (0, 1, 2, 3, 4, 11)}
    assert all(c.size <= first.size for c in found)


def test_judging_again_writes_nothing_that_did_not_change(studio: Studio, mixed: Dataset) -> None:
    assert judge_dataset(studio, mixed.id) == 0


def test_excluding_the_flagged_pictures_is_one_undoable_step(studio: Studio, mixed: Dataset) -> None:
    assert exclude_flagged(studio, mixed.id, DIFFERENT) == 1
    images = _by_name(studio, mixed)
    assert [n for n, i in images.items() if i.excluded] == ["img_010.jpg"]
    assert captions.undo(studio, mixed) == "Exclude 1 picture: different person"
    assert not any(i.excluded for i in _by_name(studio, mixed).values())
    with pytest.raises(Exception, match="Unknown identity flag"):
        exclude_flagged(studio, mixed.id, "blurry")
