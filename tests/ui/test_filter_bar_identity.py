"""The filter bar's identity filters narrow the grid's model to the pictures flagged, scored or
clustered so."""
from __future__ import annotations

import uuid
from datetime import timedelta

from PySide6.QtCore import Qt

from studio.engine.core import Studio
from studio.engine.datasets.filters import Identity
from studio.ui.models.dataset_images import DatasetImageModel
from studio.ui.thumbnails import ThumbnailCache
from studio.ui.widgets.filter_bar import FilterBar
from tests.engine.datasets.rows import T0, row


def grid(qtbot, studio: Studio) -> tuple[FilterBar, DatasetImageModel]:  # type: ignore[no-untyped-def]
    bar = FilterBar()
    qtbot.addWidget(bar)
    model = DatasetImageModel(ThumbnailCache(studio.paths.cache_dir))
    verdicts = [Identity(score=0.8, face=0, clusters=(1,)),
                Identity(score=0.2, face=0, flags=("different_person",), clusters=(2,)),
                Identity(score=0.6, face=1, flags=("several_people",), clusters=(2, 1)),
                Identity(flags=("no_face",))]
    model.set_rows([row(f"{i}.png", id=uuid.UUID(int=i + 1), created_at=T0 + timedelta(seconds=i),
                        identity=verdict) for i, verdict in enumerate(verdicts)])
    bar.filter_changed.connect(model.set_filter)
    return bar, model


def shown(model: DatasetImageModel) -> list[str]:
    return [r.name for r in model.shown_rows()]


def test_each_flag_narrows_the_grid(qtbot, studio: Studio) -> None:  # type: ignore[no-untyped-def]
    bar, model = grid(qtbot, studio)
    for flag, expected in (("different_person", ["1.png"]), ("several_people", ["2.png"]),
                           ("no_face", ["3.png"]), ("any", ["0.png", "1.png", "2.png", "3.png"])):
        bar.set_value("identity", flag)
        assert shown(model) == expected


def test_the_identity_score_and_sort_reach_the_grid(qtbot, studio: Studio) -> None:  # type: ignore[no-untyped-def]
    bar, model = grid(qtbot, studio)
    assert bar.identity_score.text() == "Identity: any"
    with qtbot.waitSignal(bar.filter_changed, timeout=5_000):
        bar.identity_score.setValue(0.55)
    assert shown(model) == ["0.png", "2.png"]
    bar.set_value("sort", "identity-low")
    assert shown(model) == ["2.png", "0.png"]


def test_a_cluster_shows_alone_until_its_button_clears_it(qtbot, studio: Studio) -> None:  # type: ignore[no-untyped-def]
    bar, model = grid(qtbot, studio)
    bar.set_cluster(2)
    assert shown(model) == ["1.png", "2.png"]
    assert bar.cluster_button.isVisibleTo(bar) and "Cluster 2" in bar.cluster_button.text()
    bar.cluster_button.click()
    assert len(shown(model)) == 4 and not bar.cluster_button.isVisibleTo(bar)


def test_a_cells_tooltip_says_her_score(qtbot, studio: Studio) -> None:  # type: ignore[no-untyped-def]
    _bar, model = grid(qtbot, studio)
    tips = [str(model.data(model.index(i), Qt.ItemDataRole.ToolTipRole)) for i in range(2)]
    assert "identity 0.80" in tips[0]
    assert "identity 0.20 — not her (a different person)" in tips[1]
