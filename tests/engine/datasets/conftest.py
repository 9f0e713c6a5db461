"""A dataset of one influencer, for the tests that need one (some modules define their own)."""
from __future__ import annotations

import pytest

from studio.engine.core import Studio
from studio.engine.datasets.service import create_dataset
from studio.engine.db.models import Dataset
from studio.engine.influencers import Persona, create_influencer


@pytest.fixture
def dataset(studio: Studio) -> Dataset:
    workspace = studio.workspace()
    mia = create_influencer(studio, workspace.id, Persona(name="Mia", trigger_word="mia"))
    return create_dataset(studio, workspace.id, mia.id, "Main")
