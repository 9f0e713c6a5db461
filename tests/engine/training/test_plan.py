"""What a training plan says before anything runs: here, whether the captions teach the trigger."""
from __future__ import annotations

from studio.engine.datasets.captions import set_caption
from studio.engine.datasets.service import list_images
from studio.engine.training.plan import plan_training
from tests.engine.training.helpers import Setup


def test_captions_without_the_trigger_word_are_warned_about(setup: Setup) -> None:
    studio = setup.studio
    first, second, _ = list_images(studio, setup.dataset)
    set_caption(studio, setup.dataset, first.id, "woman, beach")  # sd-scripts reads this, not "mia"
    set_caption(studio, setup.dataset, second.id, "mia, woman, city")
    warnings = plan_training(studio, setup.workspace_id, setup.request()).findings.warnings
    assert any("1 of 2 captions lack the trigger word 'mia'" in w for w in warnings), warnings
    set_caption(studio, setup.dataset, first.id, "mia, woman, beach")
    warnings = plan_training(studio, setup.workspace_id, setup.request()).findings.warnings
    assert not any("trigger word" in w for w in warnings), warnings
