"""What Generate offers from the library: the influencer's active LoRA first, the family only."""
from __future__ import annotations

from pathlib import Path

import pytest

from studio.engine.comfyui.generation import GenerationRequest, prepare_generation
from studio.engine.core import Studio
from studio.engine.db.models import LoraModel
from studio.engine.db.repositories import Repository
from studio.engine.errors import InvalidInput
from studio.engine.influencers import Persona, create_influencer
from studio.engine.loras.library import her_lora, offer, refuse_other_family, use_of
from studio.engine.training.results import set_active
from tests.engine.loras.files import FLUX, SDXL, write_lora


def _lora(studio: Studio, name: str, family: str | None, influencer_id=None, **meta: object) -> LoraModel:
    workspace = studio.workspace()
    with studio.db.session() as session:
        return Repository(session, workspace.id).add(LoraModel(
            name=name, storage_key=f"loras/{workspace.id}/{name}.safetensors", influencer_id=influencer_id,
            meta={"family": family, **meta}))


def test_the_active_lora_leads_then_hers_then_the_rest_of_the_family(studio: Studio, tmp_path: Path) -> None:
    workspace = studio.workspace()
    mia = create_influencer(studio, workspace.id, Persona(name="Mia", trigger_word="mia"))
    zoe = create_influencer(studio, workspace.id, Persona(name="Zoe", trigger_word="zoe"))
    _lora(studio, "a_style", "sd15")
    _lora(studio, "mia-v1-step500", "sd15", mia.id)
    _lora(studio, "mia-v1", "sd15", mia.id, final=True)
    chosen = _lora(studio, "mia-v2-step300", "sd15", mia.id)
    _lora(studio, "zoe-v1", "sd15", zoe.id, final=True, active=True)
    _lora(studio, "mia-xl", "sdxl", mia.id, final=True)
    _lora(studio, "unknown", None)
    set_active(studio.db, workspace.id, chosen.id)
    found = offer(studio, workspace.id, "sd15", mia.id)
    # Then hers, finals before checkpoints; then everyone else's, finals first too.
    assert found.names == ["mia-v2-step300.safetensors", "mia-v1.safetensors", "mia-v1-step500.safetensors",
                           "zoe-v1.safetensors", "a_style.safetensors", "unknown.safetensors"]
    assert found.active == "mia-v2-step300.safetensors"
    assert found.other_families == {"mia-xl.safetensors"}
    # Another influencer: her active one leads; nobody's: no active one, the names in order.
    assert offer(studio, workspace.id, "sd15", zoe.id).names[0] == "zoe-v1.safetensors"
    assert offer(studio, workspace.id, "sd15").active is None
    assert offer(studio, workspace.id, "sdxl", mia.id).names == ["mia-xl.safetensors", "unknown.safetensors"]
    assert len(offer(studio, workspace.id, "other").names) == 7  # a user's workflow: every LoRA


def test_a_row_recorded_with_an_earlier_family_name_is_offered_under_today_s(studio: Studio) -> None:
    _lora(studio, "mia-qwen", "qwen-image")
    _lora(studio, "mia-wan", "wan22")
    workspace = studio.workspace()
    assert offer(studio, workspace.id, "qwen_image").names == ["mia-qwen.safetensors"]
    assert offer(studio, workspace.id, "wan22_14b").names == ["mia-wan.safetensors"]


def test_a_daily_post_takes_her_lora_of_the_workflow_s_family(studio: Studio) -> None:
    workspace = studio.workspace()
    mia = create_influencer(studio, workspace.id, Persona(name="Mia", trigger_word="mia"))
    xl = _lora(studio, "mia-xl", "sdxl", mia.id, final=True)
    _lora(studio, "mia-flux-step500", "flux1", mia.id)
    _lora(studio, "mia-flux", "flux1", mia.id, final=True)
    _lora(studio, "zoe-qwen", "qwen_image", final=True)
    assert her_lora(studio, workspace.id, mia.id, "sdxl") is None  # she chose none: none is used
    set_active(studio.db, workspace.id, xl.id)
    assert her_lora(studio, workspace.id, mia.id, "sdxl") == "mia-xl.safetensors"
    assert her_lora(studio, workspace.id, mia.id, "flux1") == "mia-flux.safetensors"  # her final of FLUX.1
    assert her_lora(studio, workspace.id, mia.id, "qwen_image") is None  # someone else's is not hers


def test_use_in_generate_reads_the_loras_file_family_and_influencer(studio: Studio) -> None:
    workspace = studio.workspace()
    mia = create_influencer(studio, workspace.id, Persona(name="Mia", trigger_word="mia"))
    row = _lora(studio, "mia-xl", "sdxl", mia.id)
    use = use_of(studio, workspace.id, row.id)
    assert (use.lora_name, use.title, use.family, use.influencer_id) == ("mia-xl.safetensors", "mia-xl", "sdxl",
                                                                        mia.id)


def test_comfyuis_own_loras_of_another_family_are_left_out(studio: Studio, tmp_path: Path) -> None:
    workspace = studio.workspace()
    folder = tmp_path / "ComfyUI" / "models" / "loras"
    write_lora(folder / "xl_style.safetensors", SDXL)
    write_lora(folder / "styles" / "old_film.safetensors", {"ss_base_model_version": "sd_v1"})
    write_lora(folder / "unknown.safetensors", {})
    (folder / "broken.safetensors").write_bytes(b"not a model")
    found = offer(studio, workspace.id, "sd15", comfy_folder=folder)
    assert found.other_families == {"xl_style.safetensors"}  # unknown and unreadable ones stay offered
    assert offer(studio, workspace.id, "sdxl", comfy_folder=folder).other_families == {"styles/old_film.safetensors"}
    assert offer(studio, workspace.id, "sdxl", comfy_folder=tmp_path / "nowhere").other_families == set()
    write_lora(folder / "xl_style.safetensors", {"modelspec.architecture": "stable-diffusion-v1/lora"}, values=4)
    assert offer(studio, workspace.id, "sd15", comfy_folder=folder).other_families == set()  # read again


def test_a_lora_of_another_family_given_by_name_is_refused_in_one_line(studio: Studio, tmp_path: Path) -> None:
    workspace = studio.workspace()
    folder = tmp_path / "ComfyUI" / "models" / "loras"
    write_lora(folder / "flux_style.safetensors", FLUX)
    write_lora(folder / "plain.safetensors", {})
    _lora(studio, "mia-wan", "wan22_5b")
    _lora(studio, "mia-xl", "sdxl")
    with pytest.raises(InvalidInput, match=r"^The LoRA 'mia-wan.safetensors' is a Wan 2.2 5B LoRA and the "
                                           r"workflow 'i2v' is for Wan 2.2 14B: choose a Wan 2.2 5B workflow"):
        refuse_other_family(studio, workspace.id, ["mia-wan.safetensors"], "wan22_14b", "i2v")
    with pytest.raises(InvalidInput, match="'flux_style.safetensors' is a FLUX.1 LoRA"):
        refuse_other_family(studio, workspace.id, ["", "flux_style.safetensors"], "sdxl", "xl",
                            comfy_folder=folder)
    # Its own family, a file that names none, a name nobody knows and a user's graph all pass.
    refuse_other_family(studio, workspace.id, ["mia-xl.safetensors", "plain.safetensors", "elsewhere.safetensors"],
                        "sdxl", "xl", comfy_folder=folder)
    refuse_other_family(studio, workspace.id, ["mia-wan.safetensors"], "other", "mine")


def test_generate_refuses_a_lora_of_another_family_before_asking_comfyui(studio: Studio) -> None:
    workspace = studio.workspace()
    _lora(studio, "mia-flux", "flux1")
    request = GenerationRequest(influencer_id=None, template="txt2img-sdxl-lora",
                                values={"lora_name": "mia-flux.safetensors"}, count=1)
    # No ComfyUI is set up: the refusal comes first.
    with pytest.raises(InvalidInput, match="is a FLUX.1 LoRA and the workflow 'txt2img-sdxl-lora' is for SDXL"):
        prepare_generation(studio, workspace.id, request)
