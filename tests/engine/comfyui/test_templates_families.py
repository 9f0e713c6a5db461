"""The FLUX.1 and Qwen-Image templates (text to image and edits from a reference picture) through
the fake ComfyUI, whose node definitions are a real ComfyUI 0.3.64's: each runs to a stored
picture with its recipe, and one whose model files ComfyUI lacks stops before queueing, naming
only those files with the folder each belongs in."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from studio.engine.comfyui.generation import GenerationRequest, submit_generation
from studio.engine.comfyui.validation import WorkflowInvalid
from studio.engine.comfyui.workflows import load_templates
from studio.engine.core import Studio
from studio.engine.db.models import Asset, Influencer, Job
from studio.engine.training.config import FAMILIES
from tests.engine.comfyui.helpers import reload, run_next
from tests.fakes.comfyui_server import FakeComfyUI

# Each template's model files as the template expects them: folder -> files.
FILES: dict[str, dict[str, list[str]]] = {
    "txt2img-flux1-lora": {"diffusion_models": ["flux1-dev.safetensors"],
                           "text_encoders": ["clip_l.safetensors", "t5xxl_fp16.safetensors"],
                           "vae": ["ae.safetensors"]},
    "edit-flux1-kontext": {"diffusion_models": ["flux1-kontext-dev.safetensors"],
                           "text_encoders": ["clip_l.safetensors", "t5xxl_fp16.safetensors"],
                           "vae": ["ae.safetensors"]},
    "txt2img-qwen-image-lora": {"diffusion_models": ["qwen_image_fp8_e4m3fn.safetensors"],
                                "text_encoders": ["qwen_2.5_vl_7b_fp8_scaled.safetensors"],
                                "vae": ["qwen_image_vae.safetensors"]},
    "edit-qwen-image": {"diffusion_models": ["qwen_image_edit_fp8_e4m3fn.safetensors"],
                        "text_encoders": ["qwen_2.5_vl_7b_fp8_scaled.safetensors"],
                        "vae": ["qwen_image_vae.safetensors"]},
}
EDITS = ("edit-flux1-kontext", "edit-qwen-image")


def generate(studio: Studio, template: str, influencer: Influencer | None = None,
             **values: object) -> list[Job]:
    given = {name: value for name, value in values.items() if value is not None}
    request = GenerationRequest(influencer_id=influencer.id if influencer else None, template=template,
                                values={"positive": "photo of mia in a cafe", "steps": 4, **given})
    return submit_generation(studio, studio.workspace().id, request)


def picture(tmp_path: Path) -> Path:
    path = tmp_path / "mia.png"
    Image.new("RGB", (24, 16), (200, 120, 90)).save(path)
    return path


def sent_nodes(fake: FakeComfyUI) -> dict[str, dict[str, Any]]:
    """The prompt ComfyUI received, by class type (each class once in these templates but
    CLIPTextEncode / TextEncodeQwenImageEdit, kept by the last)."""
    graph = fake.requests("POST", "/prompt")[-1].body["prompt"]
    return {node["class_type"]: node for node in graph.values()}


@pytest.mark.parametrize("name", sorted(FILES))
def test_each_template_makes_a_picture_with_its_recipe(studio: Studio, fake: FakeComfyUI, mia: Influencer,
                                                       tmp_path: Path, name: str) -> None:
    fake.models.update(FILES[name])
    extra: dict[str, object] = {"input_image": str(picture(tmp_path))} if name in EDITS else {}
    [job] = generate(studio, name, mia, lora_name="mia_v1.safetensors", lora_strength=0.9, seed=7,
                     input_image=extra.get("input_image"))
    run_next(studio)
    done = reload(studio, job)
    assert done.status == "completed", done.error
    with studio.db.session() as session:
        [asset] = session.query(Asset).filter_by(job_id=job.id).all()
    recipe = asset.meta["recipe"]
    assert (recipe["template"], recipe["seed"], recipe["lora"]) == (name, 7, "mia_v1.safetensors")
    assert recipe["values"]["model"] == FILES[name]["diffusion_models"][0]
    assert recipe["graph"] == fake.requests("POST", "/prompt")[0].body["prompt"]
    nodes = sent_nodes(fake)
    assert nodes["UNETLoader"]["inputs"]["unet_name"] == FILES[name]["diffusion_models"][0]
    assert nodes["LoraLoaderModelOnly"]["inputs"]["lora_name"] == "mia_v1.safetensors"
    assert nodes["LoraLoaderModelOnly"]["inputs"]["strength_model"] == 0.9
    assert nodes["KSampler"]["inputs"]["steps"] == 4
    if name in EDITS:
        assert nodes["LoadImage"]["inputs"]["image"].startswith("studio-")  # the upload
        assert fake.requests("POST", "/upload/image")


def test_flux_txt2img_sends_flux_settings(studio: Studio, fake: FakeComfyUI) -> None:
    fake.models.update(FILES["txt2img-flux1-lora"])
    generate(studio, "txt2img-flux1-lora", guidance=4.0, weight_dtype="fp8_e4m3fn",
             t5xxl="t5xxl_fp16.safetensors")
    run_next(studio)
    nodes = sent_nodes(fake)
    assert nodes["DualCLIPLoader"]["inputs"] == {"clip_name1": "clip_l.safetensors",
                                                 "clip_name2": "t5xxl_fp16.safetensors", "type": "flux"}
    assert nodes["FluxGuidance"]["inputs"]["guidance"] == 4.0
    assert nodes["UNETLoader"]["inputs"]["weight_dtype"] == "fp8_e4m3fn"
    sampler = nodes["KSampler"]["inputs"]
    assert (sampler["cfg"], sampler["sampler_name"], sampler["scheduler"]) == (1.0, "euler", "simple")
    # No LoRA given: its loader is bypassed and the sampler takes the diffusion model itself.
    assert "LoraLoaderModelOnly" not in nodes
    unet_id = next(i for i, n in fake.requests("POST", "/prompt")[0].body["prompt"].items()
                   if n["class_type"] == "UNETLoader")
    assert sampler["model"] == [unet_id, 0]


def test_qwen_image_edit_reads_the_picture_in_the_text_encoder(studio: Studio, fake: FakeComfyUI,
                                                               tmp_path: Path) -> None:
    fake.models.update(FILES["edit-qwen-image"])
    generate(studio, "edit-qwen-image", input_image=str(picture(tmp_path)), shift=2.5)
    run_next(studio)
    graph = fake.requests("POST", "/prompt")[0].body["prompt"]
    scaled = next(i for i, n in graph.items() if n["class_type"] == "ImageScaleToTotalPixels")
    encoders = [n["inputs"] for n in graph.values() if n["class_type"] == "TextEncodeQwenImageEdit"]
    assert len(encoders) == 2 and all(e["image"] == [scaled, 0] for e in encoders)
    assert sorted(e["prompt"] for e in encoders) == ["", "photo of mia in a cafe"]
    assert sent_nodes(fake)["ModelSamplingAuraFlow"]["inputs"]["shift"] == 2.5


def test_kontext_conditions_on_the_reference_latent(studio: Studio, fake: FakeComfyUI,
                                                   tmp_path: Path) -> None:
    fake.models.update(FILES["edit-flux1-kontext"])
    generate(studio, "edit-flux1-kontext", input_image=str(picture(tmp_path)))
    run_next(studio)
    graph = fake.requests("POST", "/prompt")[0].body["prompt"]
    by_class = {n["class_type"]: (i, n["inputs"]) for i, n in graph.items()}
    encoded, reference = by_class["VAEEncode"], by_class["ReferenceLatent"]
    assert reference[1]["latent"] == [encoded[0], 0]
    assert by_class["FluxGuidance"][1] == {"conditioning": [reference[0], 0], "guidance": 2.5}
    assert by_class["KSampler"][1]["latent_image"] == [encoded[0], 0]
    assert by_class["VAEEncode"][1]["pixels"] == [by_class["FluxKontextImageScale"][0], 0]


@pytest.mark.parametrize("name", sorted(FILES))
def test_missing_model_files_stop_before_queueing_naming_each_with_its_folder(
        studio: Studio, fake: FakeComfyUI, tmp_path: Path, name: str) -> None:
    image = str(picture(tmp_path)) if name in EDITS else None
    with pytest.raises(WorkflowInvalid) as refused:
        generate(studio, name, input_image=image)
    problems = refused.value.problems
    assert {p.kind for p in problems} == {"missing_model"}
    wanted = [(folder, file) for folder, files in FILES[name].items() for file in files]
    assert len(problems) == len(wanted)
    for folder, file in wanted:
        assert any(f"'{file}' is not in ComfyUI's {folder} folder" in p.message for p in problems)
    assert fake.requests("POST", "/prompt") == [] and studio.jobs.list(studio.workspace().id) == []


def test_only_the_missing_file_is_named(studio: Studio, fake: FakeComfyUI) -> None:
    fake.models.update({**FILES["txt2img-flux1-lora"], "text_encoders": ["clip_l.safetensors"]})
    with pytest.raises(WorkflowInvalid) as refused:
        generate(studio, "txt2img-flux1-lora")
    assert str(refused.value) == ("The text encoder 't5xxl_fp16.safetensors' is not in ComfyUI's "
                                  "text_encoders folder; it has: clip_l.safetensors.")


def test_the_templates_name_their_family_models_and_defaults() -> None:
    templates = load_templates().templates
    for name, folders in FILES.items():
        template = templates[name]
        assert template.base in FAMILIES
        expected = {file for files in folders.values() for file in files}
        named = {slot.file for slot in template.models.values() if slot.folder != "loras"}
        assert named == expected, name
        assert all(slot.source.startswith("https://") for slot in template.models.values()
                   if slot.folder != "loras")
        assert template.models["lora"].folder == "loras" and template.parameters["lora_name"].default == ""
        assert template.parameters["sampler"].default == "euler"
    flux, qwen = templates["txt2img-flux1-lora"], templates["txt2img-qwen-image-lora"]
    assert (flux.base, flux.kind, qwen.base, qwen.kind) == ("flux1", "txt2img", "qwen_image", "txt2img")
    assert (flux.parameters["cfg"].default, flux.parameters["guidance"].default) == (1.0, 3.5)
    assert (qwen.parameters["shift"].default, qwen.parameters["cfg"].default) == (3.1, 2.5)
    assert qwen.parameters["width"].default == qwen.parameters["height"].default == 1328
    assert templates["edit-flux1-kontext"].parameters["guidance"].default == 2.5
    assert {templates[n].kind for n in EDITS} == {"edit"}
