"""The grid's fast row read gives exactly what ``image_rows`` gives, and its first page is a prefix."""
from __future__ import annotations

from studio.engine.core import Studio
from studio.engine.datasets.filters import image_rows
from studio.engine.datasets.grid_rows import all_rows, first_rows
from tests.engine.datasets.caption_helpers import add_image, make_dataset


def test_rows_match_the_filters_read_with_and_without_json_values(studio: Studio) -> None:
    dataset = make_dataset(studio)
    add_image(studio, dataset, 1, caption="mia_v, red dress", quality={"sharpness": 12.5, "blurry": True},
              faces=[[1, 2, 3, 4]], crop={"x": 0, "y": 0, "w": 32, "h": 32, "bucket": [512, 512]},
              crop_manual=True)
    for seed in range(2, 8):
        add_image(studio, dataset, seed)
    add_image(studio, dataset, 9, excluded=True, near_dup_group=3, quality={"dark": True})
    where = {"workspace_id": dataset.workspace_id, "dataset_id": dataset.id}

    every = all_rows(studio, **where)

    assert every == image_rows(studio, **where)
    assert len(every) == 8
    assert every[0].blurry and every[0].sharpness == 12.5 and every[0].faces == ((1, 2, 3, 4),)
    assert every[0].crop == {"x": 0, "y": 0, "w": 32, "h": 32, "bucket": [512, 512]} and every[0].crop_manual
    assert every[1].crop is None and every[1].faces == () and not every[1].blurry
    assert every[-1].dark and every[-1].excluded and every[-1].near_dup_group == 3
    assert first_rows(studio, **where, limit=3) == every[:3]
    assert first_rows(studio, **where, limit=50) == every
