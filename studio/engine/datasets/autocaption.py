"""Auto-captioning through an OpenAI-compatible vision model, as the ``autocaption-dataset`` job.

Each image goes out with the prompt template filled in ({trigger}, {tags}, {name}); the answers
land in the captions as ONE undoable step, written even when the job stops half way (canceled,
out of credits), since those calls were paid for. The cost of every call is added to the job
row as it happens and listed per image in the result.
"""
from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select

from studio.engine.core import Studio
from studio.engine.datasets.caption_style import SENTENCES, TAGS, check_style
from studio.engine.datasets.captions import write_captions
from studio.engine.datasets.tags import InsertTrigger, join_tags, split_tags, transform, trigger_present
from studio.engine.db.models import Dataset, DatasetImage, Influencer, Job
from studio.engine.errors import InvalidInput, NotFound
from studio.engine.jobs.context import JobContext
from studio.engine.jobs.errors import JobFailed
from studio.engine.jobs.registry import job_type
from studio.engine.llm import LLMRefused, user_message
from studio.engine.llm.meter import MeteredLLM, metered_for_job

JOB_TYPE = "autocaption-dataset"
DEFAULT_PROMPT = (
    "Write a caption for training an image model on this photo of {name}. Start with "
    "'{trigger}', then short comma-separated tags for clothing, pose, expression, setting, "
    "lighting and framing. Leave out what never changes about {name} (face, eye and hair "
    "colour). Tags already given: {tags}. Answer with the caption only, on one line.")
# FLUX.1, SD 3.5, Qwen-Image and Wan read captions through T5/umT5 or Qwen2.5-VL, trained on
# prose: they learn best from a plain description in full sentences.
SENTENCE_PROMPT = (
    "Write a caption for training an image model on this photo of {name}. Describe it in one "
    "to three natural sentences, as a person would, beginning with '{trigger}' as the subject "
    "(for example '{trigger} stands ...'): clothing, pose, expression, action, setting, "
    "lighting, camera angle and framing. Leave out what never changes about {name} (face, eye "
    "and hair colour). Details already known: {tags}. Answer with the caption only, on one line.")
PROMPTS = {TAGS: DEFAULT_PROMPT, SENTENCES: SENTENCE_PROMPT}
PER_IMAGE_REFUSALS = {400, 403, 413, 422}  # about this image (e.g. moderation), not the account
MAX_TOKENS = 300
_PREFIX = re.compile(r"^\s*(caption|tags|description)\s*:\s*", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class AutocaptionPayload:
    dataset_id: uuid.UUID
    image_ids: tuple[uuid.UUID, ...]
    model: str = ""  # empty: the worker's llm.model
    prompt_template: str = DEFAULT_PROMPT
    style: str = TAGS  # how the answer is tidied: a tag list, or sentences


@dataclass(frozen=True, slots=True)
class CaptionedImage:
    image_id: uuid.UUID
    caption: str
    model: str
    generation_id: str
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float


@dataclass(frozen=True, slots=True)
class RefusedImage:
    image_id: uuid.UUID
    reason: str


@dataclass(frozen=True, slots=True)
class AutocaptionResult:
    captioned: int
    changed: int
    failed: tuple[RefusedImage, ...]
    model: str
    cost_usd: float
    images: tuple[CaptionedImage, ...]
    warnings: tuple[str, ...] = ()


def submit_autocaption(studio: Studio, dataset: Dataset, image_ids: Sequence[uuid.UUID], *,
                       model: str | None = None, prompt_template: str | None = None,
                       style: str = TAGS) -> Job:
    """``style`` picks the prompt (tags or sentences) when no ``prompt_template`` is given."""
    check_style(style)
    prompt_template = prompt_template or PROMPTS[style]
    model = model or studio.settings.llm.model
    if not model:
        raise InvalidInput("No model chosen for auto-captioning; set one with "
                           "`settings set llm.model MODEL` (a vision model).")
    if not image_ids:
        raise InvalidInput("Choose at least one image to caption.")
    payload = AutocaptionPayload(dataset_id=dataset.id,
                                 image_ids=tuple(uuid.UUID(str(i)) for i in image_ids),
                                 model=model, prompt_template=prompt_template, style=style)
    return studio.jobs.submit(dataset.workspace_id, JOB_TYPE, payload,
                              title=f"Auto-caption {len(image_ids)} images of {dataset.name}")


def fill_prompt(template: str, *, trigger: str, tags: str, name: str) -> str:
    """Only these three placeholders; any other brace in the template stays as written."""
    return template.replace("{trigger}", trigger).replace("{tags}", tags).replace("{name}", name)


def clean_caption(answer: str, *, trigger: str, separator: str = ",", style: str = TAGS) -> str:
    """One line without quotes or a "Caption:" prefix, with the trigger word at the front when
    the model left it out (sd-scripts' keep_tokens=1 expects it there); a description in
    sentences is kept whole, the trigger put before it."""
    text = " ".join(answer.split())
    text = _PREFIX.sub("", text).strip().strip("\"'`").strip()
    if trigger and not trigger_present(text, trigger):
        text = f"{trigger}, {text}" if style == SENTENCES else transform(InsertTrigger(trigger), text, separator)
    return text


@job_type(JOB_TYPE, queue="generation", payload=AutocaptionPayload, result=AutocaptionResult,
          paid_calls=True)
def run_autocaption(ctx: JobContext, payload: AutocaptionPayload) -> AutocaptionResult:
    dataset, influencer, images = _load(ctx, payload)
    model = payload.model or ctx.settings.llm.model
    template = payload.prompt_template or PROMPTS.get(payload.style, DEFAULT_PROMPT)
    done: dict[uuid.UUID, str] = {}
    rows: list[CaptionedImage] = []
    failed: list[RefusedImage] = []
    changed = 0
    try:
        with metered_for_job(ctx, purpose="caption", influencer_id=influencer.id) as llm:
            for index, image in enumerate(images):
                ctx.check_canceled()
                ctx.progress(index / len(images), stage="captioning",
                             message=f"{index}/{len(images)} images")
                try:
                    rows.append(_caption_one(ctx, llm, image, dataset, influencer, model, template,
                                             style=payload.style))
                    done[image.id] = rows[-1].caption
                except (LLMRefused, InvalidInput) as exc:
                    if isinstance(exc, LLMRefused) and exc.status not in PER_IMAGE_REFUSALS:
                        raise
                    failed.append(RefusedImage(image_id=image.id, reason=str(exc)))
    finally:
        if done:
            noun = "image" if len(done) == 1 else "images"
            changed = write_captions(ctx.db, dataset, done, label=f"Auto-caption {len(done)} {noun}")
    if not done and failed:
        raise JobFailed(f"No image was captioned; the first refusal: {failed[0].reason}")
    return AutocaptionResult(captioned=len(done), changed=changed, failed=tuple(failed),
                             model=model, cost_usd=round(sum(r.cost_usd for r in rows), 8),
                             images=tuple(rows), warnings=tuple(llm.warnings))


def _caption_one(ctx: JobContext, llm: MeteredLLM, image: DatasetImage, dataset: Dataset,
                 influencer: Influencer, model: str, template: str, *, style: str) -> CaptionedImage:
    prompt = fill_prompt(template, trigger=influencer.trigger_word, name=influencer.name,
                         tags=join_tags(split_tags(image.caption, dataset.tag_separator)))
    source = ctx.paths.assets_dir / image.storage_key
    # Metered: the workspace budget is checked, and the cost goes on the job and the ledger.
    result = llm.chat([user_message(prompt, [source])], model=model, max_tokens=MAX_TOKENS)
    caption = clean_caption(result.content, trigger=influencer.trigger_word,
                            separator=dataset.tag_separator, style=style)
    return CaptionedImage(image_id=image.id, caption=caption, model=result.model,
                          generation_id=result.generation_id, prompt_tokens=result.prompt_tokens,
                          completion_tokens=result.completion_tokens, cost_usd=result.cost_usd)


def _load(ctx: JobContext,
          payload: AutocaptionPayload) -> tuple[Dataset, Influencer, list[DatasetImage]]:
    dataset_id, wanted = payload.dataset_id, payload.image_ids
    with ctx.db.session() as session:
        dataset = session.get(Dataset, dataset_id)
        if dataset is None or dataset.workspace_id != ctx.workspace_id or dataset.deleted_at:
            raise NotFound("The dataset of this auto-caption job no longer exists.")
        influencer = session.get(Influencer, dataset.influencer_id)
        if influencer is None:
            raise NotFound("The influencer of this dataset no longer exists.")
        query = select(DatasetImage).where(
            DatasetImage.workspace_id == ctx.workspace_id, DatasetImage.dataset_id == dataset.id,
            DatasetImage.deleted_at.is_(None))
        by_id = {i.id: i for i in session.scalars(query)}
    images = [by_id[i] for i in dict.fromkeys(wanted) if i in by_id]
    if not images:
        raise JobFailed("None of the chosen images is in the dataset any more.")
    return dataset, influencer, images

