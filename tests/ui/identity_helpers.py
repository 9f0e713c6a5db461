"""A dataset of real faces for the identity views: four pictures of her (the astronaut), two of
someone else, the three side by side and one without a face, judged against her references."""
from __future__ import annotations

from studio.engine.core import Studio
from studio.engine.db.models import Dataset, DatasetImage
from studio.engine.identity.references import use_largest_cluster
from tests.engine.identity.people import add_faceless, add_person

HERS = ("plain", "flip", "dark", "bright")


def add_people(studio: Studio, dataset: Dataset) -> dict[str, DatasetImage]:
    """The pictures by role: her-plain…, other-plain, other-flip, group, empty."""
    added: dict[str, DatasetImage] = {}
    for seed, kind in enumerate(HERS, start=1):
        added[f"her-{kind}"] = add_person(studio, dataset, seed, "astronaut", kind)
    added["other-plain"] = add_person(studio, dataset, 5, "hopper", "plain")
    added["other-flip"] = add_person(studio, dataset, 6, "hopper", "flip")
    added["group"] = add_person(studio, dataset, 7, "group")
    added["empty"] = add_faceless(studio, dataset, 8)
    use_largest_cluster(studio, dataset.influencer_id)  # her: the largest cluster; judges the dataset
    return added
