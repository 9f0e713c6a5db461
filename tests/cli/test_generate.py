"""``generate image|templates|list`` in process against FakeComfyUI (no worker: the job runs inline)."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from studio.engine.comfyui.handover import read_record
from tests.cli.conftest import Cli, one_error_line
from tests.cli.local_comfyui import port_open, use_local_comfyui
from tests.fakes.comfyui_server import FakeComfyUI

MODELS = ("--set", "checkpoint=sd15.safetensors", "--set", "lora_name=mia_v1.safetensors",
          "--set", "steps=3")


@pytest.fixture
def fake(cli: Cli) -> Iterator[FakeComfyUI]:
    with FakeComfyUI() as server:
        assert cli("settings", "set", "comfyui.url", server.base_url).code == 0
        yield server


def test_generate_image_waits_and_prints_the_stored_files(cli: Cli, fake: FakeComfyUI,
                                                          data_dir: Path) -> None:
    assert cli("influencer", "create", "Mia", "--trigger", "mia").code == 0
    result = cli("generate", "image", "--template", "txt2img-sd15-lora", "--influencer", "Mia",
                 "--prompt", "mia, portrait", "--negative", "blurry", *MODELS,
                 "--set", "seed=42", "--count", "2")
    assert result.code == 0, result.err
    paths = [Path(p) for p in result.out.split()]
    assert len(paths) == 2 and all(p.is_relative_to(data_dir / "assets" / "images") for p in paths)
    assert all(Image.open(p).size == (8, 8) for p in paths)
    sent = [r.body["prompt"] for r in fake.requests("POST", "/prompt")]
    assert [g["3"]["inputs"]["seed"] for g in sent] == [42, 43]
    assert (sent[0]["6"]["inputs"]["text"], sent[0]["7"]["inputs"]["text"]) == ("mia, portrait", "blurry")
    assert result.err.count("completed  100.0%") == 2  # progress on stderr, one job after the other

    listed = cli("generate", "list", "--influencer", "Mia", "--json").json()
    assert sorted(row["seed"] for row in listed) == [42, 43]
    assert {Path(row["path"]) for row in listed} == set(paths)
    assert {row["lora"] for row in listed} == {"mia_v1.safetensors"}
    assert cli("generate", "list").out.count("mia_v1.safetensors") == 2


def test_generate_image_refuses_early_and_fails_plainly(cli: Cli, fake: FakeComfyUI) -> None:
    missing = cli("generate", "image", "--template", "txt2img-sd15-lora", "--prompt", "x",
                  "--set", "checkpoint=sd3.safetensors")
    assert missing.code == 2
    assert one_error_line(missing.err) == (
        "error: The checkpoint 'sd3.safetensors' is not in ComfyUI's checkpoints folder; "
        "it has: sd15.safetensors, sdxl_base.safetensors.")
    several = cli("generate", "image", "--template", "txt2img-sd15-lora", "--prompt", "x",
                  "--set", "checkpoint=sd3.safetensors", "--set", "lora_name=mia_v9.safetensors",
                  "--set", "sampler=eulr")
    assert several.code == 2
    line = one_error_line(several.err)  # every problem named at once, still one line
    assert line.startswith("error: 3 problems: (1) The checkpoint 'sd3.safetensors' ")
    assert "(2) The LoRA 'mia_v9.safetensors' is not in ComfyUI's loras folder" in line
    assert "(3) KSampler (node 3) has sampler_name 'eulr', which ComfyUI does not offer" in line
    assert fake.requests("POST", "/prompt") == []
    bad_set = cli("generate", "image", "--template", "txt2img-sd15-lora", "--prompt", "x",
                  "--set", "steps")
    assert bad_set.code == 2 and "expected KEY=VALUE" in bad_set.err
    fake.script(fail_at="8", exception_message="VAE exploded")
    failed = cli("generate", "image", "--template", "txt2img-sd15-lora", "--prompt", "x", *MODELS)
    assert failed.code == 1
    assert failed.err.strip().splitlines()[-1].endswith(
        "failed: VAEDecode (node 8, 'VAE Decode') failed: RuntimeError: VAE exploded")
    assert failed.out == ""


def test_generate_starts_the_local_comfyui_and_stops_it_when_done(cli: Cli, tmp_path: Path,
                                                                  data_dir: Path) -> None:
    port = use_local_comfyui(cli, tmp_path)
    result = cli("generate", "image", "--template", "txt2img-sd15-lora", "--prompt", "x", *MODELS)
    assert result.code == 0, result.err
    assert "starting ComfyUI in" in result.err
    [path] = result.out.split()
    assert Path(path).is_file()
    assert not port_open(port)  # a waited-for generate leaves no server behind
    assert read_record(data_dir / "run") is None
    log = (data_dir / "logs" / "comfyui.log").read_text(encoding="utf-8")
    assert log.count("starting ComfyUI") == 1 and log.rstrip().endswith("ComfyUI stopped (code 0).")


def test_no_wait_only_queues_and_templates_are_listed(cli: Cli, fake: FakeComfyUI) -> None:
    queued = cli("generate", "image", "--template", "txt2img-sd15-lora", "--prompt", "x",
                 *MODELS, "--count", "3", "--no-wait", "--json").json()
    assert [j["status"] for j in queued] == ["pending"] * 3
    assert len({j["payload"]["values"]["seed"] for j in queued}) == 3
    assert fake.requests("POST", "/prompt") == []  # nothing ran: no worker, no waiting
    templates = cli("generate", "templates", "--json").json()["templates"]
    by_name = {t["name"]: t for t in templates}
    assert (by_name["img2img-sd15-lora"]["kind"], by_name["txt2img-sdxl-lora"]["base"]) == (
        "img2img", "sdxl")
    assert "input_image" in by_name["img2img-sd15-lora"]["parameters"]
    assert "controlnet-pose-sd15-lora" in cli("generate", "templates").out


def test_flux_templates_are_listed_with_family_and_vram_and_run_with_the_estimate(
        cli: Cli, fake: FakeComfyUI) -> None:
    listed = {t["name"]: t for t in cli("generate", "templates", "--json").json()["templates"]}
    flux = listed["txt2img-flux1-lora"]
    assert (flux["base"], flux["family"], flux["kind"]) == ("flux1", "FLUX.1", "txt2img")
    assert flux["vram_gb"] > 20 and listed["edit-qwen-image"]["family"] == "Qwen-Image"
    assert {"key": "unet", "folder": "diffusion_models", "file": "flux1-dev.safetensors",
            "source": "https://huggingface.co/black-forest-labs/FLUX.1-dev"} in flux["models"]
    table = cli("generate", "templates").out
    assert "FLUX.1" in table and "edit-flux1-kontext" in table and "~27 GB" in table
    missing = cli("generate", "image", "--template", "txt2img-flux1-lora", "--prompt", "x")
    assert missing.code == 2 and "VRAM" not in missing.err
    line = one_error_line(missing.err)
    assert line.startswith("error: 4 problems: (1) The diffusion model 'flux1-dev.safetensors' is not "
                           "in ComfyUI's diffusion_models folder, which is empty.")
    assert "'t5xxl_fp16.safetensors' is not in ComfyUI's text_encoders folder" in line
    assert "The VAE 'ae.safetensors' is not in ComfyUI's vae folder" in line
    fake.models.update({"diffusion_models": ["flux1-dev.safetensors"], "vae": ["ae.safetensors"],
                        "text_encoders": ["clip_l.safetensors", "t5xxl_fp16.safetensors"]})
    made = cli("generate", "image", "--template", "txt2img-flux1-lora", "--prompt", "x",
               "--set", "steps=2", "--set", "weight_dtype=fp8_e4m3fn")
    assert made.code == 0, made.err
    assert "VRAM needed: about 15 GB (an estimate for FLUX.1 at 1024×1024, fp8 weights)." in made.err
    assert len(made.out.split()) == 1  # stdout holds only the picture's path


def test_add_workflow_then_list_it(cli: Cli, tmp_path: Path) -> None:
    import json

    from studio.engine.comfyui.workflows import load_templates
    source = tmp_path / "mine.json"
    source.write_text(json.dumps(load_templates().templates["txt2img-sd15-lora"].graph), encoding="utf-8")
    added = cli("generate", "add-workflow", str(source), "--json")
    assert added.code == 0, added.err
    assert added.json()["name"] == "mine" and "seed" in added.json()["parameters"]
    listed = cli("generate", "templates", "--json").json()
    assert "mine" in [t["name"] for t in listed["templates"]]
    bad = cli("generate", "add-workflow", str(source), "--map", "seed")
    assert bad.code == 2 and "PARAM=NODE.INPUT" in one_error_line(bad.err)


def test_a_deeply_nested_workflow_is_one_line_in_add_workflow_and_comfy_run(
        cli: Cli, tmp_path: Path) -> None:
    deep = tmp_path / "deep.json"
    deep.write_text('{"1": {"class_type": "KSampler", "inputs": {"seed": '
                    + "[" * 100_000 + "]" * 100_000 + "}}}")
    added = cli("generate", "add-workflow", str(deep))
    assert added.code == 2 and one_error_line(added.err) == (
        "error: The workflow deep.json cannot be read: nested more than 64 levels deep")
    ran = cli("comfy", "run", str(deep))
    assert ran.code == 2 and one_error_line(ran.err) == (
        f"error: {deep} is not a workflow: nested more than 64 levels deep")
