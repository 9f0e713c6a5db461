"""Auto-captioning per family: the prompt the vision model gets (tags for SD, a natural
description for FLUX/Qwen/Wan), the answer tidied in that style, and the default style taken
from the influencer's last training."""
from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from studio.engine.core import Studio
from studio.engine.datasets.autocaption import DEFAULT_PROMPT, SENTENCE_PROMPT, clean_caption, submit_autocaption
from studio.engine.datasets.caption_style import SENTENCES, TAGS, default_style, last_training_family
from studio.engine.datasets.service import list_images
from studio.engine.db.models import Dataset, Job
from studio.engine.db.repositories import Repository
from studio.engine.errors import InvalidInput
from studio.engine.jobs.runner import JobRunner
from tests.engine.datasets.caption_helpers import add_image, captions_of, make_dataset
from tests.fakes.openai_server import FakeOpenAI

PROSE = "She stands on a pier at dawn, wearing a yellow raincoat, smiling at the camera."


@pytest.fixture
def server(studio: Studio) -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as fake:
        studio.settings.llm.base_url = fake.base_url
        studio.secrets.set("openrouter", "test-openrouter-key-style")
        yield fake


@pytest.fixture
def dataset(studio: Studio) -> Dataset:
    ds = make_dataset(studio)
    add_image(studio, ds, 1, caption="yellow raincoat, pier")
    return ds


def _run(studio: Studio, dataset: Dataset, style: str) -> Job:
    ids = [i.id for i in list_images(studio, dataset)]
    job = submit_autocaption(studio, dataset, ids, model="openai/gpt-4o", style=style)
    JobRunner(studio.db, studio.paths, studio.settings, worker_id="test")(str(job.id))
    return studio.jobs.get(dataset.workspace_id, job.id)


def test_sentences_prompt_asks_for_a_description(studio: Studio, dataset: Dataset, server: FakeOpenAI) -> None:
    server.success(f"Description: {PROSE}")
    job = _run(studio, dataset, SENTENCES)
    assert job.status == "completed", job.error
    prompt = server.received[0].text_parts()[0]
    assert prompt == SENTENCE_PROMPT.replace("{name}", "Mia").replace("{trigger}", "mia_v").replace(
        "{tags}", "yellow raincoat, pier")
    assert "natural sentences" in prompt and "comma-separated tags" not in prompt
    # The trigger goes before the description; the prose keeps its commas as written.
    assert captions_of(studio, dataset) == {"img_001.png": f"mia_v, {PROSE}"}


def test_tags_prompt_asks_for_tags(studio: Studio, dataset: Dataset, server: FakeOpenAI) -> None:
    server.success("yellow raincoat,pier ,  dawn")
    job = _run(studio, dataset, TAGS)
    assert job.status == "completed", job.error
    prompt = server.received[0].text_parts()[0]
    assert "comma-separated tags" in prompt and prompt.startswith(DEFAULT_PROMPT[:40])
    assert captions_of(studio, dataset) == {"img_001.png": "mia_v, yellow raincoat, pier, dawn"}


def test_unknown_style_is_refused(studio: Studio, dataset: Dataset) -> None:
    with pytest.raises(InvalidInput, match="'prose'"):
        submit_autocaption(studio, dataset, [uuid.uuid4()], model="m", style="prose")


def test_clean_caption_keeps_sentences_whole() -> None:
    assert clean_caption("mia_v walks, then runs.", trigger="mia_v", style=SENTENCES) == "mia_v walks, then runs."
    assert clean_caption("A woman walks , then runs.", trigger="mia_v", style=SENTENCES) == \
        "mia_v, A woman walks , then runs."


def _training(studio: Studio, dataset: Dataset, family: str, influencer_id: uuid.UUID | None = None) -> None:
    with studio.db.session() as session:
        Repository(session, dataset.workspace_id).add(Job(
            type="train-lora", queue="training", title="t", payload={
                "influencer_id": str(influencer_id or dataset.influencer_id), "config": {"family": family}}))


def test_default_style_follows_the_last_training(studio: Studio, dataset: Dataset) -> None:
    assert (last_training_family(studio, dataset.workspace_id, dataset.influencer_id), default_style(studio, dataset)) \
        == (None, TAGS)
    _training(studio, dataset, "sdxl")
    _training(studio, dataset, "flux1")
    _training(studio, dataset, "sd15", influencer_id=uuid.uuid4())  # another influencer's
    assert last_training_family(studio, dataset.workspace_id, dataset.influencer_id) == "flux1"
    assert default_style(studio, dataset) == SENTENCES
