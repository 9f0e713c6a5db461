"""The Datasets page's background calls: what comes after the rows is made from the rows read."""
from __future__ import annotations

import pytest

from studio.engine.core import Studio
from studio.engine.datasets.filters import image_rows
from studio.ui.context import StudioContext
from studio.ui.pages import dataset_ops as ops
from tests.engine.datasets.caption_helpers import add_image, make_dataset


def test_paced_rows_keep_their_order_and_pause_between_slices(monkeypatch: pytest.MonkeyPatch) -> None:
    pauses: list[float] = []
    monkeypatch.setattr(ops.time, "sleep", pauses.append)
    rows = list(range(25))
    assert list(ops.paced(rows, every=10)) == rows  # type: ignore[arg-type]
    assert pauses == [ops.PACE_S] * 3


def test_extras_from_the_rows_read_match_the_engines_own_reads(studio: Studio, context: StudioContext) -> None:
    dataset = make_dataset(studio)
    add_image(studio, dataset, 1, caption="mia_v, red dress, beach")
    add_image(studio, dataset, 2, caption="red dress, studio")
    add_image(studio, dataset, 3, caption="")
    add_image(studio, dataset, 4, caption="", excluded=True)  # not trained on: not checked
    rows = image_rows(studio, workspace_id=dataset.workspace_id, dataset_id=dataset.id)
    found = ops.extras(context, dataset, rows)
    assert found.tags == ops.captions.tag_frequency(studio, dataset)
    assert dict(found.tags)["red dress"] == 2
    expected = ops.checks.IssueSummary.of(ops.checks.caption_checks(studio, dataset))
    assert found.problems == expected and found.problems.count == 2
    assert dict(found.problems.kinds) == {"empty": 1, "missing-trigger": 1}
