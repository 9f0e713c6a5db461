"""Her references: the largest cluster by default, or chosen pictures, files and clusters; every
change moves the centroid's revision and re-judges her datasets."""
from __future__ import annotations

from pathlib import Path

import pytest

from studio.engine.core import Studio
from studio.engine.datasets.service import list_images
from studio.engine.db.models import Dataset
from studio.engine.errors import InvalidInput
from studio.engine.identity import references
from studio.engine.identity.dataset import DIFFERENT, flagged_ids
from studio.engine.identity.scoring import centroid_of
from tests.engine.datasets.caption_helpers import make_dataset
from tests.engine.identity.people import add_person, jpeg, variant
from tests.photos import group


@pytest.fixture
def two_people(studio: Studio) -> Dataset:
    """Three pictures of her (the astronaut) and one of someone else."""
    dataset = make_dataset(studio)
    for seed, kind in enumerate(("plain", "flip", "dark")):
        add_person(studio, dataset, seed, "astronaut", kind)
    add_person(studio, dataset, 9, "hopper")
    return dataset


def _different(studio: Studio, dataset: Dataset) -> list[str]:
    names = {i.id: i.original_name for i in list_images(studio, dataset)}
    return [names[i] for i in flagged_ids(studio, dataset.id, DIFFERENT)]


def test_auto_references_are_her_largest_cluster(studio: Studio, two_people: Dataset) -> None:
    identity = references.refresh(studio, two_people.influencer_id)
    assert identity["auto"] is True and identity["revision"] == 1
    assert {(r["source"], r["name"]) for r in identity["references"]} == {
        ("cluster", "img_000.jpg"), ("cluster", "img_001.jpg"), ("cluster", "img_002.jpg")}
    assert centroid_of(identity) is not None
    assert _different(studio, two_people) == ["img_009.jpg"]
    assert references.refresh(studio, two_people.influencer_id)["revision"] == 1  # nothing moved


def test_a_chosen_file_replaces_the_cluster_and_rejudges(studio: Studio, two_people: Dataset,
                                                         tmp_path: Path) -> None:
    person = two_people.influencer_id
    references.refresh(studio, person)
    hopper = tmp_path / "grace.jpg"
    hopper.write_bytes(jpeg(variant("hopper", "flip")))
    added = references.add_file_reference(studio, person, hopper)
    assert (added.reference["source"], added.reference["name"], added.note) == ("file", "grace.jpg", "")
    assert references.identity_of(studio, person)["auto"] is False
    assert [r["name"] for r in references.references_of(studio, person)] == ["grace.jpg"]
    assert references.identity_of(studio, person)["revision"] == 2
    assert _different(studio, two_people) == ["img_000.jpg", "img_001.jpg", "img_002.jpg"]
    references.remove_reference(studio, person, 0)
    assert references.identity_of(studio, person)["centroid"] is None
    assert _different(studio, two_people) == []  # nothing to compare with: no verdict of that kind
    assert references.use_largest_cluster(studio, person)["auto"] is True
    assert _different(studio, two_people) == ["img_009.jpg"]


def test_a_group_file_takes_the_biggest_face_and_says_so(studio: Studio, two_people: Dataset,
                                                          tmp_path: Path) -> None:
    crowd = tmp_path / "crowd.jpg"
    crowd.write_bytes(jpeg(group()))
    added = references.add_file_reference(studio, two_people.influencer_id, crowd)
    assert added.faces == 3 and added.note == "3 faces in crowd.jpg: the biggest was taken"
    blank = tmp_path / "blank.jpg"
    blank.write_bytes(jpeg(variant("astronaut", "plain").crop((0, 300, 200, 512))))
    with pytest.raises(InvalidInput, match="No face found in blank.jpg"):
        references.add_file_reference(studio, two_people.influencer_id, blank)


def test_marked_pictures_and_a_datasets_cluster(studio: Studio, two_people: Dataset) -> None:
    person = two_people.influencer_id
    images = {i.original_name: i for i in list_images(studio, two_people)}
    references.add_image_reference(studio, person, images["img_009.jpg"].id)
    references.add_image_reference(studio, person, images["img_000.jpg"].id)
    assert [(r["source"], r["name"]) for r in references.references_of(studio, person)] == [
        ("image", "img_009.jpg"), ("image", "img_000.jpg")]
    chosen = references.use_dataset_cluster(studio, person, two_people.id)
    assert {r["name"] for r in chosen} == {"img_000.jpg", "img_001.jpg", "img_002.jpg"}
    assert references.identity_of(studio, person)["auto"] is False
    other = references.use_dataset_cluster(studio, person, two_people.id, number=2)
    assert [r["name"] for r in other] == ["img_009.jpg"]  # the numbers the dataset's clusters show
    with pytest.raises(InvalidInput, match="No face cluster 3"):
        references.use_dataset_cluster(studio, person, two_people.id, number=3)
    with pytest.raises(InvalidInput, match="no reference 5"):
        references.remove_reference(studio, person, 4)


def _portrait(studio: Studio, dataset: Dataset, data: bytes) -> None:
    from studio.engine.db.models import Asset, Influencer
    from studio.engine.db.repositories import Repository
    key = f"avatars/{dataset.workspace_id}/portrait.jpg"
    studio.asset_path(key).parent.mkdir(parents=True, exist_ok=True)
    studio.asset_path(key).write_bytes(data)
    with studio.db.session() as session:
        asset = Repository(session, dataset.workspace_id).add(Asset(kind="avatar", storage_key=key))
        influencer = session.get(Influencer, dataset.influencer_id)
        assert influencer is not None
        influencer.avatar_asset_id = asset.id


def test_her_portrait_is_a_reference_when_it_shows_one_face(studio: Studio) -> None:
    dataset = make_dataset(studio)  # no pictures yet
    person = dataset.influencer_id
    with pytest.raises(InvalidInput, match="no portrait yet"):
        references.add_portrait_reference(studio, person)
    _portrait(studio, dataset, jpeg(variant("astronaut", "flip")))
    auto = references.refresh(studio, person)  # no dataset faces: auto falls back on the portrait
    assert (auto["auto"], [r["source"] for r in auto["references"]]) == (True, ["portrait"])
    added = references.add_portrait_reference(studio, person)
    assert added.reference["name"] == "portrait" and references.identity_of(studio, person)["auto"] is False
    _portrait(studio, dataset, jpeg(group()))
    with pytest.raises(InvalidInput, match="Her portrait shows 3 faces"):
        references.add_portrait_reference(studio, person)
