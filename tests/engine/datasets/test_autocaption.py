"""The autocaption-dataset job end to end: fake OpenRouter, in-process runner, cost, undo."""
from __future__ import annotations

from collections.abc import Iterator

import pytest

from studio.engine.core import Studio
from studio.engine.datasets import captions
from studio.engine.datasets.autocaption import clean_caption, fill_prompt, submit_autocaption
from studio.engine.datasets.service import list_images
from studio.engine.db.models import Dataset, Job
from studio.engine.jobs.runner import JobRunner
from tests.engine.datasets.caption_helpers import add_image, captions_of, make_dataset
from tests.fakes.openai_server import FakeOpenAI

KEY = "test-openrouter-key-autocaption"
TEMPLATE = "Caption {name} ({trigger}); keep: {tags}. {literal braces}"


@pytest.fixture
def server(studio: Studio) -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as fake:
        studio.settings.llm.base_url = fake.base_url
        studio.secrets.set("openrouter", KEY)
        yield fake


@pytest.fixture
def dataset(studio: Studio) -> Dataset:
    ds = make_dataset(studio)
    add_image(studio, ds, 1, caption="red dress")
    add_image(studio, ds, 2, caption="")
    add_image(studio, ds, 3, caption="untouched")
    return ds


def _run(studio: Studio, dataset: Dataset, ids: list, model: str = "openai/gpt-4o") -> Job:  # type: ignore[type-arg]
    job = submit_autocaption(studio, dataset, ids, model=model, prompt_template=TEMPLATE)
    JobRunner(studio.db, studio.paths, studio.settings, worker_id="test")(str(job.id))
    return studio.jobs.get(dataset.workspace_id, job.id)


def test_captions_cost_and_undo(studio: Studio, dataset: Dataset, server: FakeOpenAI) -> None:
    before = captions_of(studio, dataset)
    first, second = [i.id for i in list_images(studio, dataset)[:2]]
    server.success("Caption: mia_v, red dress, beach, smiling", cost=0.0011)
    server.success('"woman in a city at night"', cost=0.0009, model="google/gemini-flash")
    job = _run(studio, dataset, [first, second])
    assert job.status == "completed", job.error
    assert job.cost_usd == pytest.approx(0.002)
    assert job.queue == "generation" and job.result is not None
    assert [(r["cost_usd"], r["model"]) for r in job.result["images"]] == [
        (0.0011, "openai/gpt-4o"), (0.0009, "google/gemini-flash")]
    assert captions_of(studio, dataset) == {"img_001.png": "mia_v, red dress, beach, smiling",
                                            "img_002.png": "mia_v, woman in a city at night",
                                            "img_003.png": "untouched"}
    sent = server.received[0]
    assert sent.headers["Authorization"] == f"Bearer {KEY}" and sent.body["model"] == "openai/gpt-4o"
    assert sent.text_parts() == ["Caption Mia (mia_v); keep: red dress. {literal braces}"]
    assert sent.image_urls()[0].startswith("data:image/jpeg;base64,")
    assert captions.undo(studio, dataset) == "Auto-caption 2 images"  # one step for the batch
    assert captions_of(studio, dataset) == before


def test_refused_image_is_skipped(studio: Studio, dataset: Dataset, server: FakeOpenAI) -> None:
    first, second = [i.id for i in list_images(studio, dataset)[:2]]
    server.error(403, "Input flagged by moderation").success("mia_v, city", cost=0.001)
    job = _run(studio, dataset, [first, second])
    assert job.status == "completed"
    assert job.result is not None and job.result["failed"][0]["image_id"] == str(first)
    assert "moderation" in job.result["failed"][0]["reason"]
    assert captions_of(studio, dataset)["img_002.png"] == "mia_v, city"


def test_out_of_credits_keeps_what_was_paid_for(studio: Studio, dataset: Dataset,
                                               server: FakeOpenAI) -> None:
    ids = [i.id for i in list_images(studio, dataset)]
    server.success("mia_v, first", cost=0.003).error(402, "Insufficient credits")
    job = _run(studio, dataset, ids)
    assert job.status == "failed" and "HTTP 402" in job.error and KEY not in job.error
    assert job.cost_usd == pytest.approx(0.003)
    assert captions_of(studio, dataset)["img_001.png"] == "mia_v, first"
    assert captions.history(studio, dataset).undo_label == "Auto-caption 1 image"


def test_missing_key_fails_plainly(studio: Studio, dataset: Dataset) -> None:
    studio.settings.llm.base_url = "https://openrouter.ai/api/v1"
    job = _run(studio, dataset, [list_images(studio, dataset)[0].id])
    assert job.status == "failed" and "secret set openrouter" in job.error


def test_prompt_and_answer_cleanup() -> None:
    assert fill_prompt("{name}/{trigger}/{tags}/{other}", trigger="t", tags="a, b", name="N") == \
        "N/t/a, b/{other}"
    assert clean_caption("  'beach,\n smiling' ", trigger="mia_v") == "mia_v, beach, smiling"
    assert clean_caption("photo of mia_v", trigger="mia_v") == "photo of mia_v"
