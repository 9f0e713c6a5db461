"""FLUX.1 dev and SD 3.5 Medium presets: each to its exact command through the fake sd-scripts,
every option it uses checked against the real scripts' parsers (the extract in
tests/fakes/data/sd_scripts_options.json), a run to LoRAs that carry the family, and the checks
that name a missing or wrong model file and what makes a setup fit a smaller GPU."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from studio.engine.errors import InvalidInput
from studio.engine.training.checks import check_model_files, check_training
from studio.engine.training.command import SCRIPTS, Launch
from studio.engine.training.config import Preset, get_preset
from studio.engine.training.jobs import submit_training
from studio.engine.training.plan import TrainingPlan, TrainingRequest, plan_training
from studio.engine.training.results import checkpoints_of
from studio.engine.training.vram import estimate_gb
from tests.engine.training.helpers import FAKE_SD_SCRIPTS, Setup

EXTRACT = Path(__file__).resolve().parents[2] / "fakes" / "data" / "sd_scripts_options.json"
NEW = ("flux1-dev-likeness-24gb", "flux1-dev-likeness-16gb-fp8", "flux1-dev-fast-test",
       "sd35-medium-likeness-16gb", "sd35-medium-fast-test")
FLUX_COMMON = ["--optimizer_type", "AdamW8bit", "--lr_scheduler", "constant"]
FLUX_TAIL = ["--network_train_unet_only", "--gradient_checkpointing", "--cache_latents",
             "--cache_text_encoder_outputs", "--sdpa", "--guidance_scale", "1", "--timestep_sampling", "shift",
             "--model_prediction_type", "raw", "--discrete_flow_shift", "3.1582"]
FLUX_SWAP = {"flux1-dev-likeness-24gb": ["--blocks_to_swap", "18"],
             "flux1-dev-likeness-16gb-fp8": ["--blocks_to_swap", "10", "--fp8_base"],
             "flux1-dev-fast-test": ["--blocks_to_swap", "16", "--fp8_base"]}
SD35_TAIL = ["--network_train_unet_only", "--gradient_checkpointing", "--cache_latents",
             "--cache_text_encoder_outputs", "--sdpa", "--weighting_scheme", "uniform"]
SIZES = {"flux1-dev-fast-test": ("4", "4", "0.0002", "150", "50"),
         "sd35-medium-fast-test": ("4", "4", "0.0002", "150", "50")}


def real_options(script: str) -> set[str]:
    return {o["name"] for o in json.loads(EXTRACT.read_text(encoding="utf-8"))["scripts"][script]}


def model_files(folder: Path, preset: Preset, scale: float = 1.0) -> dict[str, object]:
    """Each file the preset names, at its usual size (sparse: no disk is used), with a valid
    safetensors header; the --set values that point the studio at them."""
    folder.mkdir(parents=True, exist_ok=True)
    values: dict[str, object] = {}
    for model in preset.models.values():
        path = folder / model.file if model.role != "base" else folder / f"base-{model.file}"
        with path.open("wb") as out:
            out.write((8).to_bytes(8, "little") + b"{}      ")
            out.truncate(int(model.size_bytes * (scale if model.role == "t5xxl" else 1.0)))
        values["base_model" if model.role == "base" else model.option] = str(path)
    return values


def plan_of(setup: Setup, slug: str, tmp_path: Path) -> TrainingPlan:
    """The preset as it is, given only its model files."""
    request = TrainingRequest(influencer_id=setup.influencer.id, dataset_id=setup.dataset.id, preset=slug,
                              overrides=model_files(tmp_path / "models", get_preset(slug)),
                              sd_scripts=str(FAKE_SD_SCRIPTS))
    return plan_training(setup.studio, setup.workspace_id, request, gpu_gb=lambda: 24.0)


def expected_argv(plan: TrainingPlan, slug: str) -> list[str]:
    files, config, flux = plan.files, plan.config, slug.startswith("flux1")
    dim, alpha, lr, steps, every = SIZES.get(slug, ("16", "16", "0.0001", "2000", "250"))
    encoders = ["--clip_l", config.clip_l, "--t5xxl", config.t5xxl, "--ae", config.ae] if flux else [
        "--clip_l", config.clip_l, "--clip_g", config.clip_g, "--t5xxl", config.t5xxl]
    return [
        str(FAKE_SD_SCRIPTS / SCRIPTS[config.family]), "--pretrained_model_name_or_path", config.base_model,
        *encoders, "--dataset_config", str(files.dataset_config), "--output_dir", str(files.output_dir),
        "--output_name", plan.output_name, "--save_model_as", "safetensors",
        "--network_module", "networks.lora_flux" if flux else "networks.lora_sd3",
        "--network_dim", dim, "--network_alpha", alpha, "--learning_rate", lr, *FLUX_COMMON,
        "--max_train_steps", steps, "--mixed_precision", "bf16", "--save_precision", "bf16", "--seed", "42",
        "--max_data_loader_n_workers", "2", *(FLUX_TAIL + FLUX_SWAP[slug] if flux else SD35_TAIL),
        "--cache_text_encoder_outputs_to_disk", "--cache_latents_to_disk", "--save_every_n_steps", every,
        "--save_state", "--save_state_on_train_end", "--sample_prompts", str(files.sample_prompts),
        "--sample_every_n_steps", every, "--console_log_simple"]


@pytest.mark.parametrize("slug", NEW)
def test_each_new_preset_plans_its_exact_command(setup: Setup, tmp_path: Path, slug: str) -> None:
    plan = plan_of(setup, slug, tmp_path)
    assert plan.findings.problems == [], plan.findings.problems
    assert plan.argv[1:] == expected_argv(plan, slug)  # [0]: the Python that runs it


@pytest.mark.parametrize("slug", NEW)
def test_every_option_of_each_new_preset_is_in_the_real_scripts_parser(
        setup: Setup, tmp_path: Path, slug: str) -> None:
    plan = plan_of(setup, slug, tmp_path)
    script = SCRIPTS[plan.config.family]
    used = {token[2:] for token in plan.argv[2:] if token.startswith("--")}
    assert used - real_options(script) == set()
    assert {"clip_l", "t5xxl"} <= used and ("ae" in used) == (script == "flux_train_network.py")


def test_sample_prompts_follow_each_family(setup: Setup, tmp_path: Path) -> None:
    flux = plan_of(setup, "flux1-dev-likeness-24gb", tmp_path).sample_prompts.splitlines()
    assert flux[0] == ("A portrait photo of mia, looking at the camera in soft window light. --w 1024 --h 1024 "
                       "--d 42 --s 20 --g 3.5")  # embedded guidance, no CFG, so no negative prompt
    sd35 = plan_of(setup, "sd35-medium-fast-test", tmp_path).sample_prompts.splitlines()
    assert sd35 == ["A portrait photo of mia, looking at the camera. --n lowres, blurry, bad anatomy, bad hands, "
                    "watermark, text --w 512 --h 512 --d 42 --s 28 --l 4.5"]


@pytest.mark.parametrize(("slug", "family", "version"), [
    ("flux1-dev-fast-test", "flux1", "flux1"),
    ("sd35-medium-fast-test", "sd35", "5-medium"),
])
def test_a_run_through_the_stand_in_saves_loras_of_the_family(
        setup: Setup, tmp_path: Path, slug: str, family: str, version: str) -> None:
    values = model_files(tmp_path / "models", get_preset(slug))
    job = submit_training(setup.studio, setup.workspace_id, setup.request(slug, **values))
    setup.run_next()
    done = setup.job(job.id)
    assert done.status == "completed", done.error
    rows = checkpoints_of(setup.studio.db, setup.workspace_id, job_id=job.id)
    assert rows and {r.meta["family"] for r in rows} == {family}
    assert {r.meta["ss_metadata"]["ss_base_model_version"] for r in rows} == {version}
    assert {r.meta["ss_metadata"]["ss_network_module"] for r in rows} == {get_network(slug)}


def get_network(slug: str) -> str:
    return "networks.lora_flux" if slug.startswith("flux1") else "networks.lora_sd3"


def test_a_model_file_not_given_names_the_file_its_folder_and_source(tmp_path: Path) -> None:
    preset = get_preset("flux1-dev-likeness-24gb")
    values = model_files(tmp_path, preset)
    config = preset.config.with_values({**values, "ae": ""})
    found = check_training(config, images=20, launch=None, gpu_gb=24.0, models=preset.models)
    assert found.problems == [
        "FLUX.1's autoencoder is not set: give its file with --set ae=PATH, or put ae.safetensors in ComfyUI's "
        "models/vae folder (usually ae.safetensors, about 335 MB; kept in ComfyUI's models/vae; published at "
        "https://huggingface.co/black-forest-labs/FLUX.1-dev)."]
    gone = preset.config.with_values({**values, "base_model": str(tmp_path / "nowhere.safetensors")})
    [missing] = check_training(gone, images=20, launch=None, gpu_gb=24.0, models=preset.models).problems
    assert missing.startswith(f"The FLUX.1 dev model {tmp_path / 'nowhere.safetensors'} does not exist")


def test_a_wrong_sized_file_is_named_and_an_fp8_variant_only_warned(tmp_path: Path) -> None:
    preset = get_preset("flux1-dev-likeness-24gb")
    small = preset.config.with_values(model_files(tmp_path / "a", preset, scale=0.215))
    found = check_training(small, images=20, launch=None, gpu_gb=24.0, models=preset.models)
    assert found.problems == ["t5xxl_fp16.safetensors is 2.1 GB; FLUX.1's T5-XXL text encoder (fp16) is about "
                              "9.8 GB (t5xxl_fp16.safetensors) — is it the right file?"]
    fp8 = preset.config.with_values(model_files(tmp_path / "b", preset, scale=0.5))
    found = check_training(fp8, images=20, launch=None, gpu_gb=24.0, models=preset.models)
    assert found.problems == [] and any("4.9 GB" in w and "fp8" in w for w in found.warnings)


def test_check_model_files_serves_any_family_preset(tmp_path: Path) -> None:
    preset = get_preset("sd35-medium-likeness-16gb")
    config = preset.config.with_values({**model_files(tmp_path, preset), "clip_g": str(tmp_path)})
    found = check_training(config, images=20, launch=None, gpu_gb=None, models=preset.models)
    assert found.problems == [f"SD 3.5's CLIP-G text encoder must be a file (clip_g.safetensors), not the "
                              f"folder {tmp_path}."]
    alone = type(found)()
    check_model_files(config, {"clip_l": preset.models["clip_l"]}, alone)
    assert alone.problems == [] and alone.warnings == []


def test_a_gpu_too_small_is_told_the_options_and_the_preset_that_fit(tmp_path: Path) -> None:
    preset = get_preset("flux1-dev-likeness-24gb")
    config = preset.config.with_values(model_files(tmp_path, preset))
    [problem] = check_training(config, images=20, launch=None, gpu_gb=15.6, models=preset.models).problems
    assert problem == (
        "This setup needs about 17 GB of GPU memory; the one here has 16 GB. To fit, hold the model in fp8 "
        "(fp8_base=true), or lower the resolution (e.g. 768). The preset flux1-dev-likeness-16gb-fp8 is set "
        "up for 16 GB.")
    followed = config.with_values({"fp8_base": True})  # what the sentence said
    assert check_training(followed, images=20, launch=None, gpu_gb=15.6, models=preset.models).problems == []
    [eight] = check_training(config, images=20, launch=None, gpu_gb=7.7, models=preset.models).problems
    assert "fp8_base=true) and swap 29 blocks to system memory (blocks_to_swap=29; slower)" in eight
    assert "The preset" not in eight  # no FLUX.1 preset is set up for 8 GB
    both = config.with_values({"fp8_base": True, "blocks_to_swap": 29})
    assert check_training(both, images=20, launch=None, gpu_gb=7.7, models=preset.models).problems == []
    unknown = check_training(config, images=20, launch=None, gpu_gb=None, models=preset.models)
    assert unknown.problems == [] and unknown.warnings == [
        "No NVIDIA GPU was detected here, so whether this setup fits (it needs about 17 GB) cannot be "
        "checked; the training needs one where the worker runs."]


@pytest.mark.parametrize("slug", NEW)
def test_each_preset_fits_the_card_it_is_named_for_and_not_much_less(slug: str) -> None:
    config = get_preset(slug).config
    need = estimate_gb(config)
    assert need is not None and config.vram_gb - 8 < need <= config.vram_gb


@pytest.mark.parametrize(("slug", "values", "expected"), [
    ("flux1-dev-likeness-24gb", {"resolution": 1000}, "The resolution 1000 is not divisible by 16 (try 992)."),
    ("flux1-dev-likeness-24gb", {"bucket_reso_steps": 48}, "bucket_reso_steps must be a positive multiple of 32"),
    ("flux1-dev-likeness-24gb", {"blocks_to_swap": 40}, "blocks_to_swap must be from 1 to 35 for FLUX.1"),
    ("sd35-medium-likeness-16gb", {"blocks_to_swap": 30}, "blocks_to_swap must be from 1 to 22 for SD 3.5 Medium"),
    ("flux1-dev-likeness-16gb-fp8", {"mixed_precision": "no"}, "fp8_base needs mixed_precision bf16"),
    ("flux1-dev-likeness-24gb", {"timestep_sampling": "logit"}, "timestep_sampling must be one of sigma,"),
    ("flux1-dev-likeness-24gb", {"shuffle_caption": True}, "cannot be used with shuffle_caption"),
])
def test_family_rules_refuse_what_the_scripts_would(tmp_path: Path, slug: str, values: dict[str, object],
                                                    expected: str) -> None:
    preset = get_preset(slug)
    config = preset.config.with_values({**model_files(tmp_path, preset), **values})
    found = check_training(config, images=20, launch=None, gpu_gb=24.0, models=preset.models)
    assert any(expected in p for p in found.problems), found.problems


def test_a_flux_setting_on_another_family_is_said_not_to_be_passed(tmp_path: Path) -> None:
    config = get_preset("sd35-medium-fast-test").config.with_values({"guidance_scale": 3.5})
    found = check_training(config, images=20, launch=None, gpu_gb=24.0)
    assert "guidance_scale is not used by sd35 training and will not be passed." in found.warnings


def test_a_text_encoder_gone_before_the_job_runs_fails_it_naming_the_file(setup: Setup, tmp_path: Path) -> None:
    values = model_files(tmp_path / "models", get_preset("flux1-dev-fast-test"))
    job = submit_training(setup.studio, setup.workspace_id, setup.request("flux1-dev-fast-test", **values))
    Path(str(values["t5xxl"])).unlink()  # moved away while the training waited in the queue
    setup.run_next()
    done = setup.job(job.id)
    assert done.status == "failed" and done.error.startswith(
        f"The t5xxl file {values['t5xxl']} does not exist on this machine"), done.error


def test_set_checks_flux_options_against_the_real_scripts_parser(setup: Setup, tmp_path: Path) -> None:
    values = model_files(tmp_path / "models", get_preset("flux1-dev-fast-test"))
    request = setup.request("flux1-dev-fast-test", **values, sigmoid_scale="1.2", split_mode="false")
    argv = plan_training(setup.studio, setup.workspace_id, request).argv
    assert argv[argv.index("--sigmoid_scale") + 1] == "1.2" and "--split_mode" not in argv
    with pytest.raises(InvalidInput, match="'guidance' is not an option of sd-scripts' flux_train_network.py; "
                                           "did you mean guidance_scale"):
        plan_training(setup.studio, setup.workspace_id, setup.request("flux1-dev-fast-test", guidance="3"))
    with pytest.raises(InvalidInput, match="model_type must be one of flux, chroma, not 'chrom'"):
        plan_training(setup.studio, setup.workspace_id, setup.request("flux1-dev-fast-test", model_type="chrom"))


def test_an_sd_scripts_without_the_flux_script_is_called_too_old(tmp_path: Path) -> None:
    old = tmp_path / "sd-scripts"
    old.mkdir()
    (old / "train_network.py").write_text("")
    preset = get_preset("flux1-dev-fast-test")
    config = preset.config.with_values(model_files(tmp_path / "models", preset))
    launch = Launch(folder=old, python="/usr/bin/env", accelerate=None)
    found = check_training(config, images=20, launch=launch, gpu_gb=24.0, models=preset.models)
    assert found.problems == [f"The sd-scripts in {old} is too old for flux1: it has no flux_train_network.py. "
                              "Update it (git pull on its main branch, then its requirements)."]


def test_model_files_not_named_are_taken_from_comfyuis_models_folder(setup: Setup, tmp_path: Path) -> None:
    comfy = tmp_path / "ComfyUI"
    preset = get_preset("flux1-dev-fast-test")
    for model in preset.models.values():
        folder = {"diffusion_models": "unet", "text_encoders": "clip"}.get(model.folder, model.folder)
        model_files(comfy / "models" / folder, Preset(slug="x", title="", description="", config=preset.config,
                                                      models={model.role: model}))
    unet = comfy / "models" / "unet"  # the older name of diffusion_models
    (unet / "base-flux1-dev.safetensors").rename(unet / "flux1-dev.safetensors")
    setup.studio.settings.comfyui.folder = str(comfy)
    request = TrainingRequest(influencer_id=setup.influencer.id, dataset_id=setup.dataset.id,
                              preset="flux1-dev-fast-test", sd_scripts=str(FAKE_SD_SCRIPTS),
                              overrides={"ae": str(tmp_path / "own-ae.safetensors")})
    plan = plan_training(setup.studio, setup.workspace_id, request, gpu_gb=lambda: 24.0)
    argv = plan.argv
    assert argv[argv.index("--pretrained_model_name_or_path") + 1] == str(comfy / "models/unet/flux1-dev.safetensors")
    assert argv[argv.index("--t5xxl") + 1] == str(comfy / "models/clip/t5xxl_fp16.safetensors")
    assert argv[argv.index("--ae") + 1] == str(tmp_path / "own-ae.safetensors")  # named: kept
    assert [p for p in plan.findings.problems if "own-ae.safetensors does not exist" in p]
