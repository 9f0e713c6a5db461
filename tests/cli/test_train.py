"""The train verbs against the fake sd-scripts: presets, dry run, a run, failures, checkpoints."""
from __future__ import annotations

import shlex
from pathlib import Path

import pytest

from studio.engine.core import Studio
from tests.cli.conftest import Cli, make_image, one_error_line
from tests.engine.training.helpers import FAKE_SD_SCRIPTS, use_this_python


@pytest.fixture(autouse=True)
def own_gpu_lock(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("studio.engine.jobs.gpu.gpu_lock_path", lambda: tmp_path / "gpu.lock")
    monkeypatch.setattr("studio.engine.training.plan.detect_vram_gb", lambda: 12.0)


@pytest.fixture
def trained(cli: Cli, tmp_path: Path, studio: Studio) -> list[str]:
    """An influencer with a dataset of three photos; the arguments of a quick training."""
    use_this_python(studio)
    assert cli("influencer", "create", "Mia", "--trigger", "mia").code == 0
    assert cli("dataset", "create", "--influencer", "Mia", "main", "--class", "woman", "--repeats", "2").code == 0
    photos = [make_image(tmp_path / "in" / f"{i}.png", (96 + i, 128)) for i in range(3)]
    assert cli("dataset", "import", "--influencer", "Mia", "--dataset", "main", *map(str, photos)).code == 0
    model = tmp_path / "sd15.safetensors"
    model.write_bytes((8).to_bytes(8, "little") + b"{}      ")  # safetensors with no tensors
    return ["train", "--influencer", "Mia", "--dataset", "main", "--preset", "sd15-fast-test",
            "--sd-scripts", str(FAKE_SD_SCRIPTS), "--set", f"base_model={model}",
            "--set", "max_train_steps=8", "--set", "save_every_n_steps=4"]


def test_presets_are_listed_by_slug(cli: Cli) -> None:
    result = cli("train", "presets")
    assert result.code == 0
    for slug in ("sd15-likeness-12gb", "sdxl-likeness-24gb", "sd15-fast-test"):
        assert slug in result.out
    rows = cli("train", "presets", "--json").json()
    assert {r["slug"] for r in rows} >= {"sdxl-fast-test"} and "learning_rate" in rows[0]["settings"]


def test_presets_list_family_vram_and_steps_for_the_new_families(cli: Cli) -> None:
    lines = {line.split()[0]: line.split() for line in cli("train", "presets").out.splitlines()[1:]}
    assert lines["flux1-dev-likeness-16gb-fp8"][1:5] == ["flux1", "16", "GB", "2000"]
    assert lines["sd35-medium-fast-test"][1:5] == ["sd35", "12", "GB", "150"]
    rows = {r["slug"]: r for r in cli("train", "presets", "--json").json()}
    flux = rows["flux1-dev-likeness-24gb"]
    assert (flux["family"], flux["vram_gb"], flux["steps"]) == ("flux1", 24, "2000")
    assert flux["models"]["t5xxl"]["file"] == "t5xxl_fp16.safetensors" and rows["sd15-fast-test"]["models"] == {}


def test_a_flux_dry_run_prints_the_flux_script_and_names_a_missing_text_encoder(
        cli: Cli, trained: list[str], tmp_path: Path) -> None:
    args = [a if a != "sd15-fast-test" else "flux1-dev-fast-test" for a in trained]
    result = cli(*args, "--dry-run")
    assert result.code == 2 and "error: sd15.safetensors is 16 bytes; the FLUX.1 dev model is about 23.8 GB" in (
        result.err) and "FLUX.1's CLIP-L text encoder is not set" in result.err
    argv = shlex.split(result.out.splitlines()[1])
    assert argv[1].endswith("flux_train_network.py") and argv[argv.index("--network_module") + 1] == (
        "networks.lora_flux")


def test_dry_run_prints_the_command_and_dataset_config_and_queues_nothing(
        cli: Cli, trained: list[str], studio: Studio) -> None:
    result = cli(*trained, "--dry-run")
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    argv = shlex.split(lines[1])
    assert argv[1].endswith("train_network.py") and argv[argv.index("--max_train_steps") + 1] == "8"
    assert "[[datasets.subsets]]" in result.out and 'class_tokens = "mia woman"' in result.out
    assert "8 steps" in result.out
    assert [j for j in studio.jobs.list(studio.workspace().id) if j.type == "train-lora"] == []
    again = cli(*trained, "--dry-run", "--json").json()
    assert again["argv"] == argv and again["total_steps"] == 8


def test_set_takes_any_option_of_the_script_and_names_the_closest_for_an_unknown_one(
        cli: Cli, trained: list[str]) -> None:
    result = cli(*trained, "--set", "lowram=true", "--set", "tokenizer_cache_dir=/x", "--set", "full_fp16=yes",
                 "--dry-run")
    assert result.code == 0, result.err
    argv = shlex.split(result.out.splitlines()[1])
    assert "--lowram" in argv and "--full_fp16" in argv and argv[argv.index("--tokenizer_cache_dir") + 1] == "/x"
    refused = cli(*trained, "--set", "full_fp61=true", "--dry-run")
    assert refused.code == 2
    assert one_error_line(refused.err) == ("error: 'full_fp61' is not an option of sd-scripts' train_network.py; "
                                           "did you mean full_fp16, full_bf16?")


def test_a_refused_setting_is_one_error_line(cli: Cli, trained: list[str]) -> None:
    result = cli(*trained, "--set", "resolution=500")
    assert result.code == 2
    assert "not divisible by 64" in one_error_line(result.err)
    assert cli("train", "--influencer", "Mia").code == 2


def test_a_training_runs_prints_progress_and_its_checkpoints(cli: Cli, trained: list[str],
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKE_SD_SCRIPTS_STEP_S", "0.1")  # slow enough for the 0.2 s progress poll
    result = cli(*trained)
    assert result.code == 0, result.err
    assert "Training: step" in result.err and "loss" in result.err
    paths = [line.split(None, 1)[1] for line in result.out.splitlines()]
    assert [Path(p).name for p in paths] == ["mia-main-v1-step00000004.safetensors",
                                             "mia-main-v1-step00000008.safetensors", "mia-main-v1.safetensors"]
    assert all(Path(p).is_file() for p in paths)
    rows = cli("train", "checkpoints", "--influencer", "Mia", "--json").json()
    assert [r["kind"] for r in rows] == ["step", "step", "final"]
    assert rows[2]["ss_metadata"]["ss_base_model_version"] == "sd_v1"
    assert cli("train", "activate", "mia-main-v1").code == 0
    assert [r["active"] for r in cli("train", "checkpoints", "--json").json()] == [False, False, True]


def test_a_failed_training_exits_1_with_the_reason(cli: Cli, trained: list[str],
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKE_SD_SCRIPTS_FAIL", "oom")
    result = cli(*trained)
    assert result.code == 1
    assert "CUDA ran out of GPU memory" in result.err
    job_id = cli("train", "list", "--json").json()[0]["id"]
    monkeypatch.delenv("FAKE_SD_SCRIPTS_FAIL")
    resumed = cli("train", "resume", job_id)
    assert resumed.code == 0, resumed.err
