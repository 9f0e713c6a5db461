"""``train import-lora``: a LoRA made elsewhere into the library, its family read; a broken file
refused in one line (an input error: exit code 2)."""
from __future__ import annotations

from pathlib import Path

from studio.engine.core import Studio
from studio.engine.loras.library import offer
from tests.cli.conftest import Cli, one_error_line
from tests.engine.loras.files import FLUX, SDXL, WAN, write_lora


def test_a_lora_is_imported_for_an_influencer_with_its_family(cli: Cli, studio: Studio, tmp_path: Path) -> None:
    assert cli("influencer", "create", "Mia", "--trigger", "mia").code == 0
    source = write_lora(tmp_path / "mia_xl.safetensors", SDXL)
    result = cli("train", "import-lora", str(source), "--influencer", "Mia", "--json")
    assert result.code == 0, result.err
    shown = result.json()
    assert shown["family"] == "sdxl" and shown["file"] == "mia_xl.safetensors" and shown["name"] == "Mia XL"
    assert offer(studio, studio.workspace().id, "sdxl").names == ["mia_xl.safetensors"]
    listed = cli("train", "checkpoints", "--influencer", "Mia")
    assert "Mia XL" in listed.out and "sdxl" in listed.out
    wan = write_lora(tmp_path / "wan_motion.safetensors", WAN, tensors={
        "lora_unet_blocks_0_self_attn_q.lora_down.weight": [4, 3072],
        "lora_unet_blocks_0_self_attn_q.lora_up.weight": [3072, 4]})
    assert cli("train", "import-lora", str(wan), "--json").json()["family"] == "wan22_5b"
    assert [r["family"] for r in cli("train", "checkpoints", "--json").json()] == ["sdxl", "wan22_5b"]


def test_a_broken_file_is_refused_in_one_line(cli: Cli, tmp_path: Path) -> None:
    source = tmp_path / "notes.safetensors"
    source.write_text("not a model")
    result = cli("train", "import-lora", str(source))
    assert result.code == 2
    assert one_error_line(result.err) == ("error: notes.safetensors is not a LoRA the studio can read: its "
                                          "header is missing or cut short.")


def test_a_flux_lora_named_for_an_sdxl_workflow_is_refused_in_one_line(cli: Cli, tmp_path: Path) -> None:
    source = write_lora(tmp_path / "mia_flux.safetensors", FLUX)
    assert cli("train", "import-lora", str(source)).code == 0
    # No ComfyUI is set up: the refusal comes before it is asked.
    result = cli("generate", "image", "--template", "txt2img-sdxl-lora", "--prompt", "mia",
                 "--set", "lora_name=mia_flux.safetensors")
    assert result.code == 2
    assert one_error_line(result.err) == (
        "error: The LoRA 'mia_flux.safetensors' is a FLUX.1 LoRA and the workflow 'txt2img-sdxl-lora' is for "
        "SDXL: choose a FLUX.1 workflow or an SDXL LoRA.")
