"""The test grid: prompts × checkpoints × LoRA strengths through ComfyUI, as one contact sheet.

Each cell is an ordinary generate-image job (``prepare_generation``: checked against ComfyUI, the
LoRA handed to its folder when needed) with the prompt's fixed seed, so cells differ only by
checkpoint and strength. Every cell is checked before any is queued, and all are queued in one
transaction with the sheet, so a refused grid leaves nothing half-queued.

A "test-grid-sheet" job waits for the cells and lays the pictures out with Pillow: a block per
prompt, a row per checkpoint, a column per strength, labelled, with her identity score under each
picture (as its generation recorded it; cells below the same-person score framed in red); the
sheet is stored as an Asset (kind "contact-sheet") whose meta lists the score of every cell.
"""
from __future__ import annotations

import io
import time
import uuid
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from PIL import Image, ImageDraw, ImageFont

from studio.engine.comfyui.generation import JOB_TYPE as IMAGE_JOB
from studio.engine.comfyui.generation import (
    GenerationRequest,
    ImageResult,
    fetch_object_info,
    prepare_generation,
    reach_comfyui,
)
from studio.engine.comfyui.identity import identity_of, score_of
from studio.engine.comfyui.loras import hand_off
from studio.engine.comfyui.recipe_template import template_for_recipe
from studio.engine.comfyui.supervisor import comfy_url
from studio.engine.comfyui.user_workflows import all_templates
from studio.engine.comfyui.validation import choices
from studio.engine.core import Studio
from studio.engine.db.models import Asset, Influencer, Job, LoraModel
from studio.engine.db.repositories import Repository
from studio.engine.errors import InvalidInput
from studio.engine.identity.descriptors import SAME_PERSON_SCORE
from studio.engine.jobs.context import JobContext
from studio.engine.jobs.errors import JobFailed
from studio.engine.jobs.payloads import AssetKey, encode, payload_of, result_of
from studio.engine.jobs.registry import job_type
from studio.engine.jobs.service import NewJob
from studio.engine.jobs.status import FINISHED, JobStatus
from studio.engine.loras.family import FAMILY_TITLES
from studio.engine.storage.local import LocalStore
from studio.engine.training.config import TrainingConfig
from studio.engine.training.jobs import JOB_TYPE as TRAINING_JOB
from studio.engine.training.jobs import TrainingPayload
from studio.engine.training.results import checkpoints_of

SHEET_JOB = "test-grid-sheet"
MAX_CELLS = 100
DEFAULT_CHECKPOINTS = 4
DEFAULT_PROMPT = "{trigger}, portrait photo, looking at the camera"
CELL = 256
LABEL_W = 220
HEADER_H = 34
TITLE_H = 40
SCORE_H = 20  # under each picture, inside its cell: "identity 0.81"
UNLIKE = (200, 60, 60)  # the frame and text of a cell that does not look like her
POLL_S = 0.5


@dataclass(frozen=True, slots=True)
class GridRequest:
    training_job_id: uuid.UUID
    lora_ids: tuple[uuid.UUID, ...] = ()  # empty: up to four spread over the run, the final included
    prompts: tuple[str, ...] = ()  # empty: the training's sample prompts
    strengths: tuple[float, ...] = (0.6, 0.8, 1.0)
    seed: int = 1234
    steps: int = 25


@dataclass(frozen=True, slots=True)
class GridCell:
    job_id: uuid.UUID  # the generate-image job that makes this cell's picture
    prompt: int
    row: int
    column: int


@dataclass(frozen=True, slots=True)
class SheetPayload:
    training_job_id: uuid.UUID
    cells: tuple[GridCell, ...]
    prompts: tuple[str, ...]
    rows: tuple[str, ...]  # a label per checkpoint
    columns: tuple[str, ...]  # a label per strength
    lora_ids: tuple[uuid.UUID, ...]
    seed: int
    influencer_id: uuid.UUID | None = None


@dataclass(frozen=True, slots=True)
class SheetResult:
    asset: uuid.UUID
    key: AssetKey  # the contact sheet's file
    missing: int
    cells: int


@dataclass(frozen=True, slots=True)
class SubmittedGrid:
    sheet_job: Job
    generation_jobs: list[uuid.UUID]


def submit_test_grid(studio: Studio, workspace_id: uuid.UUID, request: GridRequest) -> SubmittedGrid:
    """Every cell is checked first (its LoRA handed to ComfyUI, its workflow against ComfyUI's
    /object_info); then the cells and the sheet are written in one transaction. A grid refused
    for any cell, the last included, leaves no job behind."""
    plan = _plan(studio, workspace_id, request)
    object_info = _handed_to_comfyui(studio, workspace_id, plan.loras)
    orders = [NewJob(IMAGE_JOB, payload, title)
              for values in _all_cell_values(plan, request)
              for payload, title in prepare_generation(studio, workspace_id, GenerationRequest(
                  influencer_id=plan.influencer_id, template=plan.template, values=values, count=1),
                  object_info)]
    layout = [GridCell(job_id=order.job_id, prompt=p, row=r, column=c)
              for order, (p, r, c) in zip(orders, plan.positions(), strict=True)]
    payload = SheetPayload(
        training_job_id=request.training_job_id, cells=tuple(layout), prompts=plan.texts,
        rows=tuple(_row_label(lora) for lora in plan.loras), lora_ids=tuple(lora.id for lora in plan.loras),
        columns=tuple(f"strength {s:g}" for s in plan.strengths), seed=request.seed,
        influencer_id=plan.influencer_id)
    title = f"Test grid: {plan.trained.output_name} ({len(layout)} images)"
    jobs = studio.jobs.submit_all(workspace_id, [*orders, NewJob(SHEET_JOB, payload, title)])
    return SubmittedGrid(sheet_job=jobs[-1], generation_jobs=[order.job_id for order in orders])


@dataclass(frozen=True, slots=True)
class _GridPlan:
    """What a grid request comes to once checked, before ComfyUI is asked anything."""
    trained: TrainingPayload
    config: TrainingConfig
    loras: list[LoraModel]
    texts: tuple[str, ...]  # the prompts, the trigger word filled in
    strengths: tuple[float, ...]
    template: str
    influencer_id: uuid.UUID | None

    def positions(self) -> list[tuple[int, int, int]]:
        """(prompt, row, column) of each cell, in the order the cells are made."""
        return [(p, r, c) for p in range(len(self.texts)) for r in range(len(self.loras))
                for c in range(len(self.strengths))]


def _plan(studio: Studio, workspace_id: uuid.UUID, request: GridRequest) -> _GridPlan:
    training = studio.jobs.get(workspace_id, request.training_job_id)
    if training.type != TRAINING_JOB:
        raise InvalidInput(f"Job {training.id} is not a training.")
    trained = payload_of(training, TrainingPayload)
    config = TrainingConfig.from_dict(trained.config)
    loras = _chosen(studio, workspace_id, request)
    prompts = [p for p in (request.prompts or config.sample_prompts or (DEFAULT_PROMPT,)) if p.strip()]
    if not prompts:
        raise InvalidInput("A test grid needs at least one prompt that is not blank.")
    strengths = request.strengths or (1.0,)
    cells = len(prompts) * len(loras) * len(strengths)
    if cells > MAX_CELLS:
        raise InvalidInput(f"A grid of {cells} images is too large (at most {MAX_CELLS}); choose fewer "
                           "prompts, checkpoints or strengths.")
    template = _grid_template(studio, config.family)
    influencer = _influencer(studio, workspace_id, trained.influencer_id)
    trigger = influencer.trigger_word if influencer else ""
    return _GridPlan(trained=trained, config=config, loras=loras,
                     texts=tuple(p.replace("{trigger}", trigger) for p in prompts),
                     strengths=tuple(strengths), template=template,
                     influencer_id=influencer.id if influencer else None)


def _grid_template(studio: Studio, family: str) -> str:
    """A text-to-image workflow of the training's family (txt2img-qwen-image-lora for qwen_image)."""
    found = template_for_recipe({"family": family, "kind": "txt2img"}, all_templates(studio.paths).templates)
    if found is None or found.kind != "txt2img":
        raise InvalidInput(f"A test grid needs a text-to-image workflow for {FAMILY_TITLES.get(family, family)} "
                           "LoRAs, and none is installed.")
    return found.name


def _handed_to_comfyui(studio: Studio, workspace_id: uuid.UUID, loras: list[LoraModel]) -> dict[str, Any]:
    """ComfyUI's catalogue once every checkpoint it lacks is in its loras folder: each LoRA is
    handed off once, not once per cell, and the catalogue asked for again only if one was."""
    object_info = reach_comfyui(studio)
    listed = set(choices(object_info, "LoraLoader", "lora_name") or [])
    names = [n for n in dict.fromkeys(PurePosixPath(lora.storage_key).name for lora in loras)
             if n not in listed]
    for name in names:
        hand_off(studio, workspace_id, name)
    return fetch_object_info(comfy_url(studio.settings)) if names else object_info


def _all_cell_values(plan: _GridPlan, request: GridRequest) -> list[dict[str, object]]:
    return [_cell_values(plan.config, plan.trained, text=plan.texts[p], lora=plan.loras[r],
                         strength=plan.strengths[c], seed=request.seed + p, steps=request.steps)
            for p, r, c in plan.positions()]


def _cell_values(config: TrainingConfig, trained: TrainingPayload, *, text: str, lora: LoraModel,
                 strength: float, seed: int, steps: int) -> dict[str, object]:
    """The txt2img values of one grid image: the training's base model and size, one LoRA."""
    return {"checkpoint": Path(config.base_model).name, "positive": text,
            "lora_name": PurePosixPath(lora.storage_key).name, "lora_strength": strength,
            "seed": seed, "steps": steps, "width": config.resolution, "height": config.resolution,
            "filename_prefix": f"grid_{trained.output_name}"}


def _chosen(studio: Studio, workspace_id: uuid.UUID, request: GridRequest) -> list[LoraModel]:
    rows = list(checkpoints_of(studio.db, workspace_id, job_id=request.training_job_id))
    if request.lora_ids:
        by_id = {r.id: r for r in checkpoints_of(studio.db, workspace_id)}
        missing = [str(i) for i in request.lora_ids if i not in by_id]
        if missing:
            raise InvalidInput(f"No saved LoRA with id {', '.join(missing)}.")
        return [by_id[i] for i in request.lora_ids]
    if not rows:
        raise InvalidInput("This training has saved no checkpoints yet.")
    rows = _distinct_weights(rows)
    if len(rows) <= DEFAULT_CHECKPOINTS:
        return rows
    # Evenly spread over the run, always ending with the last (the final) one.
    picks = {round(i * (len(rows) - 1) / (DEFAULT_CHECKPOINTS - 1)) for i in range(DEFAULT_CHECKPOINTS)}
    return [rows[i] for i in sorted(picks)]


def _distinct_weights(rows: list[LoraModel]) -> list[LoraModel]:
    """One row per set of weights, the later one kept: sd-scripts also saves the last step as a
    step checkpoint when save_every_n_steps divides the run, the same weights as the final."""
    def weights(row: LoraModel) -> object:
        return (row.meta or {}).get("ss_metadata", {}).get("sshs_model_hash") or row.id
    last = {weights(r): r for r in rows}
    return [r for r in rows if last[weights(r)] is r]


def _influencer(studio: Studio, workspace_id: uuid.UUID, influencer_id: uuid.UUID) -> Influencer | None:
    with studio.db.session() as session:
        return Repository(session, workspace_id).find(Influencer, id=influencer_id)


def _row_label(lora: LoraModel) -> str:
    meta = lora.meta or {}
    if meta.get("final"):
        return f"final (step {meta.get('step')})" if meta.get("step") else "final"
    if meta.get("kind") == "epoch":
        return f"epoch {meta.get('epoch')} (step {meta.get('step')})"
    return f"step {meta.get('step')}"


# The sheet -------------------------------------------------------------------------------------

@job_type(SHEET_JOB, queue="general", payload=SheetPayload, result=SheetResult)
def run_sheet(ctx: JobContext, payload: SheetPayload) -> SheetResult:
    jobs = _wait_for_cells(ctx, [cell.job_id for cell in payload.cells])
    stills = {job.id: _first_image(ctx, job) for job in jobs}
    pictures = {job_id: picture for job_id, (picture, _) in stills.items()}
    identities = {job_id: identity for job_id, (_, identity) in stills.items()}
    sheet = draw_sheet(payload, pictures, identities)
    buffer = io.BytesIO()
    sheet.save(buffer, format="PNG", optimize=False)
    key = f"images/{ctx.workspace_id}/{ctx.job_id}/contact-sheet.png"
    stored = LocalStore(ctx.paths.assets_dir).put_bytes(buffer.getvalue(), key)
    missing = sum(1 for picture in pictures.values() if picture is None)
    with ctx.db.session() as session:
        asset = Repository(session, ctx.workspace_id).add(Asset(
            kind="contact-sheet", storage_key=stored.key, job_id=ctx.job_id,
            influencer_id=payload.influencer_id, sha256=stored.sha256,
            size_bytes=stored.size_bytes,
            meta={"width": sheet.width, "height": sheet.height, "grid": encode(payload),
                  "training_job_id": str(payload.training_job_id), "path": str(stored.path),
                  "cell_identity": cell_identity(payload, identities)}))
        asset_id = asset.id
    if missing == len(pictures):
        raise JobFailed("None of the grid's images could be made; see the generate-image jobs.")
    return SheetResult(asset=asset_id, key=AssetKey(stored.key), missing=missing,
                       cells=len(payload.cells))


def _wait_for_cells(ctx: JobContext, ids: list[uuid.UUID]) -> list[Job]:
    while True:
        with ctx.db.session() as session:
            jobs = [session.get(Job, i) for i in ids]
        found = [j for j in jobs if j is not None]
        done = sum(1 for j in found if j.status in FINISHED)
        ctx.progress(0.9 * done / max(len(ids), 1), stage="Waiting for the grid's images",
                     message=f"{done} of {len(ids)} done")
        if done == len(found):
            return found
        ctx.check_canceled()
        time.sleep(POLL_S)


def _first_image(ctx: JobContext, job: Job) -> tuple[Image.Image | None, dict[str, Any]]:
    """The cell's picture and the identity verdict its generation recorded ({} where none)."""
    if job.status != JobStatus.COMPLETED:
        return None, {}
    result = result_of(job, ImageResult)
    for asset_id in result.assets if result is not None else ():
        with ctx.db.session() as session:
            asset = Repository(session, ctx.workspace_id).find(Asset, id=asset_id)
        if asset is None:
            continue
        try:
            with Image.open(ctx.paths.assets_dir / asset.storage_key) as image:
                return image.convert("RGB"), identity_of(asset.meta)
        except OSError:
            continue
    return None, {}


def cell_identity(layout: SheetPayload, identities: dict[uuid.UUID, dict[str, Any]]) -> list[dict[str, Any]]:
    """Each cell's place and her score there (None: not scored), as the sheet's meta keeps them."""
    return [{"job_id": str(c.job_id), "prompt": c.prompt, "row": c.row, "column": c.column,
             "score": score_of({"identity": identities.get(c.job_id) or {}}),
             "faces": (identities.get(c.job_id) or {}).get("faces")} for c in layout.cells]


def score_label(identity: dict[str, Any]) -> tuple[str, bool]:
    """What a cell says under its picture, and whether it is marked as not her."""
    score = score_of({"identity": identity})
    if score is not None:
        return f"identity {score:.2f}", score < SAME_PERSON_SCORE
    if identity.get("faces") == 0:
        return "identity: no face", True
    return "", False  # not scored (no references yet): nothing to say


def draw_sheet(layout: SheetPayload, pictures: dict[uuid.UUID, Image.Image | None],
               identities: dict[uuid.UUID, dict[str, Any]] | None = None) -> Image.Image:
    prompts, rows, columns = layout.prompts, layout.rows, layout.columns
    block_h = TITLE_H + HEADER_H + CELL * len(rows)
    sheet = Image.new("RGB", (LABEL_W + CELL * len(columns), block_h * len(prompts)), (250, 250, 248))
    draw = ImageDraw.Draw(sheet)
    font = _font(16)
    small = _font(14)
    for p_index, prompt in enumerate(prompts):
        top = p_index * block_h
        draw.rectangle((0, top, sheet.width, top + TITLE_H - 1), fill=(40, 44, 52))
        draw.text((10, top + 10), _fit(draw, f"{prompt}  ·  seed {layout.seed + p_index}", font,
                                       sheet.width - 20), fill=(255, 255, 255), font=font)
        for column, label in enumerate(columns):
            draw.text((LABEL_W + column * CELL + 10, top + TITLE_H + 8), label, fill=(30, 30, 30), font=small)
        for row, label in enumerate(rows):
            draw.text((10, top + TITLE_H + HEADER_H + row * CELL + CELL // 2 - 8), label,
                      fill=(30, 30, 30), font=small)
    for cell in layout.cells:
        left = LABEL_W + cell.column * CELL
        upper = cell.prompt * block_h + TITLE_H + HEADER_H + cell.row * CELL
        picture = pictures.get(cell.job_id)
        if picture is None:
            draw.rectangle((left + 4, upper + 4, left + CELL - 4, upper + CELL - 4), outline=UNLIKE, width=2)
            draw.text((left + 20, upper + CELL // 2 - 8), "not made", fill=UNLIKE, font=small)
            continue
        _draw_cell(sheet, draw, picture, (identities or {}).get(cell.job_id) or {}, (left, upper))
    return sheet


def _draw_cell(sheet: Image.Image, draw: ImageDraw.ImageDraw, picture: Image.Image,
               identity: dict[str, Any], corner: tuple[int, int]) -> None:
    """The picture above its score; a picture that does not look like her framed in red."""
    left, upper = corner
    label, unlike = score_label(identity)
    thumb = picture.copy()
    thumb.thumbnail((CELL - 8, CELL - 8 - SCORE_H))
    at = (left + (CELL - thumb.width) // 2, upper + 4 + (CELL - 8 - SCORE_H - thumb.height) // 2)
    sheet.paste(thumb, at)
    if unlike:
        draw.rectangle((at[0] - 3, at[1] - 3, at[0] + thumb.width + 2, at[1] + thumb.height + 2),
                       outline=UNLIKE, width=3)
    if label:
        width = draw.textlength(label, font=_font(14))
        draw.text((left + (CELL - width) // 2, upper + CELL - SCORE_H - 2), label,
                  fill=UNLIKE if unlike else (30, 30, 30), font=_font(14))


def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow before 10.1 has one bitmap size
        return ImageFont.load_default()


def _fit(draw: ImageDraw.ImageDraw, text: str, font: Any, width: int) -> str:
    while text and draw.textlength(text, font=font) > width:
        text = text[:-2]
    return text
