"""`train` with the musubi-tuner presets against the fake musubi-tuner: listing, the dry run of
every stage, a run, and doctor's musubi-tuner line."""
from __future__ import annotations

import shlex
import sys
from pathlib import Path

import pytest

from studio.engine.core import Studio
from tests.cli.conftest import Cli, make_image
from tests.engine.training.musubi_helpers import FAKE_MUSUBI, MUSUBI_PRESETS, model_files, use_fake_musubi


@pytest.fixture(autouse=True)
def own_gpu_lock(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("studio.engine.jobs.gpu.gpu_lock_path", lambda: tmp_path / "gpu.lock")
    monkeypatch.setattr("studio.engine.training.musubi_plan.detect_vram_gb", lambda: 24.0)


@pytest.fixture
def mia(cli: Cli, tmp_path: Path, studio: Studio) -> list[str]:
    use_fake_musubi(studio)
    assert cli("influencer", "create", "Mia", "--trigger", "mia").code == 0
    assert cli("dataset", "create", "--influencer", "Mia", "main").code == 0
    photos = [make_image(tmp_path / "in" / f"{i}.png", (96 + i, 128)) for i in range(3)]
    assert cli("dataset", "import", "--influencer", "Mia", "--dataset", "main", *map(str, photos)).code == 0
    return ["train", "--influencer", "Mia", "--dataset", "main"]


def _sets(tmp_path: Path, preset: str) -> list[str]:
    values = {**model_files(tmp_path / "models", preset), "max_train_steps": 4, "save_every_n_steps": 2}
    return [token for name, value in values.items() for token in ("--set", f"{name}={value}")]


def test_presets_list_the_musubi_families(cli: Cli) -> None:
    lines = {line.split()[0]: line.split() for line in cli("train", "presets").out.splitlines()[1:] if line.strip()}
    assert lines["qwen-image-likeness-24gb"][1] == "qwen_image" and lines["wan22-i2v-motion-24gb"][1] == "wan22_14b"
    assert set(MUSUBI_PRESETS) <= set(lines)


@pytest.mark.parametrize("preset", MUSUBI_PRESETS)
def test_dry_run_prints_every_stage_command(cli: Cli, mia: list[str], tmp_path: Path, preset: str) -> None:
    result = cli(*mia, "--preset", preset, *_sets(tmp_path, preset), "--dry-run")
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    titles = [line for line in lines if line in ("# Caching latents", "# Caching text-encoder outputs", "# Training")]
    assert titles == ["# Caching latents", "# Caching text-encoder outputs", "# Training"]
    commands = [shlex.split(lines[lines.index(t) + 1]) for t in titles]
    prefix = "qwen_image" if preset.startswith("qwen") else "wan"
    assert [Path(next(a for a in argv if a.endswith(".py"))).name for argv in commands] == [
        f"{prefix}_cache_latents.py", f"{prefix}_cache_text_encoder_outputs.py", f"{prefix}_train_network.py"]
    assert all(argv[0] == sys.executable for argv in commands[:2])
    assert "[[datasets]]" in result.out and "cache_directory" in result.out
    stages = cli(*mia, "--preset", preset, *_sets(tmp_path, preset), "--dry-run", "--json").json()["stages"]
    assert [s["stage"] for s in stages] == ["latents", "text", "train"] and stages[2]["argv"] == commands[2]
    assert [j["type"] for j in cli("jobs", "list", "--json").json()] == ["import-dataset"]  # none queued


def test_a_missing_model_is_refused_by_the_dry_run(cli: Cli, mia: list[str]) -> None:
    result = cli(*mia, "--preset", "qwen-image-fast-test", "--dry-run")
    assert result.code == 2 and "The Qwen-Image DiT (bf16) is not set: give its file with --set dit=PATH" in result.err


def test_a_qwen_run_through_the_cli(cli: Cli, mia: list[str], tmp_path: Path) -> None:
    result = cli(*mia, "--preset", "qwen-image-fast-test", *_sets(tmp_path, "qwen-image-fast-test"))
    assert result.code == 0, result.err
    assert "mia-main-v1.safetensors" in result.out


def test_doctor_checks_musubi_in_its_python(cli: Cli, studio: Studio) -> None:
    use_fake_musubi(studio)
    rows = {row["key"]: row for row in cli("doctor", "--json").json()}
    musubi = rows["musubi"]
    assert musubi["status"] == "ok" and "torch 2.5.1+fake, accelerate 1.6.0+fake" in musubi["detail"]
    assert str(FAKE_MUSUBI) in musubi["detail"]
