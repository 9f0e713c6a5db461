"""Pictures of a dataset go to the trash and come back; another dataset's pictures are left alone."""
from __future__ import annotations

from studio.engine.core import Studio
from studio.engine.datasets.service import list_images, restore_images, trash_images
from studio.engine.trash import trash_items
from tests.engine.datasets.caption_helpers import add_image, make_dataset


def test_pictures_go_to_the_trash_and_come_back(studio: Studio) -> None:
    dataset = make_dataset(studio)
    first, second, third = (add_image(studio, dataset, seed) for seed in (1, 2, 3))
    other = make_dataset(studio, influencer="Nova", trigger="nova_v")
    stranger = add_image(studio, other, 4)
    moved = trash_images(studio, dataset, [first.id, third.id, stranger.id])
    assert sorted(moved) == sorted([first.id, third.id])  # the other dataset's picture stays
    assert [i.id for i in list_images(studio, dataset)] == [second.id]
    assert {item.id for item in trash_items(studio, dataset.workspace_id)} == {first.id, third.id}
    assert trash_images(studio, dataset, [first.id]) == []  # already in the trash
    assert restore_images(studio, dataset, [first.id, third.id, second.id]) == 2
    assert len(list_images(studio, dataset)) == 3 and trash_items(studio, dataset.workspace_id) == []
    assert [i.id for i in list_images(studio, other)] == [stranger.id]
