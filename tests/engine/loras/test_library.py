"""What Generate offers from the library: the influencer's active LoRA first, the family only."""
from __future__ import annotations

from pathlib import Path

from studio.engine.core import Studio
from studio.engine.db.models import LoraModel
from studio.engine.db.repositories import Repository
from studio.engine.influencers import Persona, create_influencer
from studio.engine.loras.library import offer, use_of
from studio.engine.training.results import set_active


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


def test_use_in_generate_reads_the_loras_file_family_and_influencer(studio: Studio) -> None:
    workspace = studio.workspace()
    mia = create_influencer(studio, workspace.id, Persona(name="Mia", trigger_word="mia"))
    row = _lora(studio, "mia-xl", "sdxl", mia.id)
    use = use_of(studio, workspace.id, row.id)
    assert (use.lora_name, use.title, use.family, use.influencer_id) == ("mia-xl.safetensors", "mia-xl", "sdxl",
                                                                        mia.id)
