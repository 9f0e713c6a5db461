"""A picture's recipe across model families: the model it was made with and its family are
recorded; a re-run picks a workflow of that family; any family's picture is input to any
image-to-image or edit workflow. Through the fake ComfyUI with a real ComfyUI's node definitions."""
from __future__ import annotations

import pytest

from studio.engine.comfyui import gallery
from studio.engine.comfyui.generation import GenerationRequest, submit_generation
from studio.engine.core import Studio
from studio.engine.db.models import Asset, Influencer, Job
from studio.engine.db.repositories import Repository
from studio.engine.errors import InvalidInput
from studio.engine.jobs.status import JobStatus
from tests.engine.comfyui.helpers import reload, run_next, submit
from tests.fakes.comfyui_server import FakeComfyUI

FLUX = {"diffusion_models": ["flux1-dev.safetensors"],
        "text_encoders": ["clip_l.safetensors", "t5xxl_fp16.safetensors"], "vae": ["ae.safetensors"]}
QWEN_EDIT = {"diffusion_models": ["qwen_image_edit_fp8_e4m3fn.safetensors"],
             "text_encoders": ["qwen_2.5_vl_7b_fp8_scaled.safetensors"], "vae": ["qwen_image_vae.safetensors"]}


def _made(studio: Studio, template: str, mia: Influencer, **values: object) -> Asset:
    request = GenerationRequest(influencer_id=mia.id, template=template, values={
        "positive": "photo of mia in a cafe", "steps": 4, "lora_name": "mia_v1.safetensors", "seed": 7, **values})
    [job] = submit_generation(studio, studio.workspace().id, request)
    return _picture(studio, job)


def _picture(studio: Studio, job: Job) -> Asset:
    run_next(studio)
    assert reload(studio, job).status == JobStatus.COMPLETED, reload(studio, job).error
    with studio.db.session() as session:
        [asset] = session.query(Asset).filter_by(job_id=job.id).all()
    return asset


def test_a_flux_picture_s_recipe_names_its_model_and_family(studio: Studio, fake: FakeComfyUI,
                                                            mia: Influencer) -> None:
    fake.models.update(FLUX)
    made = gallery.recipe(_made(studio, "txt2img-flux1-lora", mia))
    assert (made["model"], made["family"], made["kind"]) == ("flux1-dev.safetensors", "flux1", "txt2img")
    assert made["models"] == {"unet": "flux1-dev.safetensors", "clip_l": "clip_l.safetensors",
                              "t5xxl": "t5xxl_fp16.safetensors", "vae": "ae.safetensors", "lora": "mia_v1.safetensors"}
    assert made["checkpoint"] is None
    # An SD 1.5 picture's model is its checkpoint.
    sd = gallery.recipe(_picture(studio, submit(studio, influencer=mia)[0]))
    assert (sd["model"], sd["checkpoint"], sd["family"]) == ("sd15.safetensors", "sd15.safetensors", "sd15")


def test_a_rerun_whose_workflow_is_gone_takes_one_of_its_family(studio: Studio, fake: FakeComfyUI,
                                                                mia: Influencer) -> None:
    fake.models.update(FLUX)
    asset = _made(studio, "txt2img-flux1-lora", mia)
    workspace_id = studio.workspace().id
    with studio.db.session() as session:  # made with a workflow since removed, with a value it had
        row = Repository(session, workspace_id).get(Asset, asset.id)
        made = row.meta["recipe"]
        made = {**made, "template": "my-flux-portrait", "values": {**made["values"], "grain": 0.2}}
        Repository(session, workspace_id).update(row, meta={**row.meta, "recipe": made})
    job = gallery.rerun(studio, workspace_id, asset.id)
    assert job.payload["template"] == "txt2img-flux1-lora"
    assert job.payload["values"]["model"] == "flux1-dev.safetensors" and "grain" not in job.payload["values"]
    assert gallery.recipe(_picture(studio, job))["family"] == "flux1"


def test_a_rerun_of_a_family_no_workflow_has_says_so(studio: Studio, fake: FakeComfyUI, mia: Influencer) -> None:
    asset = _picture(studio, submit(studio, influencer=mia)[0])
    workspace_id = studio.workspace().id
    with studio.db.session() as session:
        row = Repository(session, workspace_id).get(Asset, asset.id)
        made = {**row.meta["recipe"], "template": "txt2img-sd35", "family": "sd35"}
        Repository(session, workspace_id).update(row, meta={**row.meta, "recipe": made})
    with pytest.raises(InvalidInput, match="^There is no workflow template 'txt2img-sd35'"):
        gallery.rerun(studio, workspace_id, asset.id)


@pytest.mark.parametrize("template", ["img2img-sd15-lora", "edit-qwen-image"])
def test_a_flux_picture_is_input_to_another_family_s_workflow(studio: Studio, fake: FakeComfyUI,
                                                              mia: Influencer, template: str) -> None:
    fake.models.update({**FLUX, **{k: FLUX.get(k, []) + v for k, v in QWEN_EDIT.items()}})
    source = gallery.use_as_input(_made(studio, "txt2img-flux1-lora", mia), studio)
    extra = {"checkpoint": "sd15.safetensors"} if template.startswith("img2img") else {}
    made = gallery.recipe(_made(studio, template, mia, input_image=str(source), **extra))
    assert made["template"] == template and made["family"] == ("sd15" if extra else "qwen_image")
    assert made["values"]["input_image"].startswith("images/")  # the FLUX picture, by its asset key
