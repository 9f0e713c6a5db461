"""Auto-captioning goes through the same metered client: ledger, cache and budget apply to it."""
from __future__ import annotations

from collections.abc import Iterator

import pytest

from studio.engine.core import Studio
from studio.engine.datasets.autocaption import submit_autocaption
from studio.engine.datasets.service import list_images
from studio.engine.db.models import Dataset, Job, LLMCall
from studio.engine.jobs.runner import JobRunner
from studio.engine.llm.budget import set_budget, spend_by
from tests.engine.datasets.caption_helpers import add_image, captions_of, make_dataset
from tests.fakes.openai_server import FakeOpenAI


@pytest.fixture
def server(studio: Studio) -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as fake:
        studio.settings.llm.base_url = fake.base_url
        studio.secrets.set("openrouter", "sk-or-caption-budget")
        yield fake


@pytest.fixture
def dataset(studio: Studio) -> Dataset:
    ds = make_dataset(studio)
    add_image(studio, ds, 1, caption="")
    add_image(studio, ds, 2, caption="")
    return ds


def _run(studio: Studio, dataset: Dataset) -> Job:
    ids = [i.id for i in list_images(studio, dataset)]
    job = submit_autocaption(studio, dataset, ids, model="vision/m")
    JobRunner(studio.db, studio.paths, studio.settings, worker_id="test")(str(job.id))
    return studio.jobs.get(dataset.workspace_id, job.id)


def test_caption_calls_are_on_the_ledger_and_stop_at_the_budget(
        studio: Studio, dataset: Dataset, server: FakeOpenAI) -> None:
    set_budget(studio.db, dataset.workspace_id, 0.005)
    server.success("mia_v, beach", cost=0.003).success("mia_v, city", cost=0.003)
    job = _run(studio, dataset)
    assert job.status == "completed" and job.cost_usd == pytest.approx(0.006)
    assert job.result is not None and "used up" in job.result["warnings"][0]
    [row] = spend_by(studio.db, dataset.workspace_id, "influencer")
    assert (row.key, row.calls, row.cost_usd) == ("Mia", 2, pytest.approx(0.006))
    with studio.db.session() as session:
        assert {c.purpose for c in session.query(LLMCall)} == {"caption"}
    before = captions_of(studio, dataset)
    add_image(studio, dataset, 3, caption="")
    stopped = _run(studio, dataset)
    assert stopped.status == "failed" and "used up" in stopped.error
    assert len(server.received) == 2  # the third image was never sent
    assert {k: v for k, v in captions_of(studio, dataset).items() if k in before} == before
