"""musubi-tuner's commands and dataset config: every option the studio passes exists in the real
scripts' parsers (tests/fakes/data/musubi_options.json, captured at commit 30c658c)."""
from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

from studio.engine.errors import InvalidInput
from studio.engine.training.command import Launch, TrainingFiles
from studio.engine.training.config import MUSUBI_FAMILIES, get_preset, load_presets
from studio.engine.training.musubi import musubi_stages
from studio.engine.training.musubi_dataset import (
    MusubiData,
    VideoSettings,
    clip_warnings,
    dataset_config_text,
    preset_table,
    video_settings,
)
from studio.engine.training.musubi_plan import _overrides, with_preset_options
from tests.engine.training.musubi_helpers import MUSUBI_PRESETS

OPTIONS = json.loads((Path(__file__).resolve().parents[2] / "fakes" / "data" / "musubi_options.json")
                     .read_text(encoding="utf-8"))
LAUNCH = Launch(folder=Path("/opt/musubi-tuner"), python="/opt/musubi-tuner/.venv/bin/python",
                accelerate="/opt/musubi-tuner/.venv/bin/accelerate")
FILES = TrainingFiles(Path("/data/training/ws/mia-main-v1"))


def _stages(slug: str) -> tuple:
    """The preset's stages with its model files given by --set, as a user gives them."""
    config = with_preset_options(get_preset(slug).config, slug)
    models = {str(m["option"]): f"/models/{m['file']}" for m in preset_table(slug, "models").values()}
    return musubi_stages(_overrides(config, models), LAUNCH, FILES, "mia-main-v1")


def _script_options(argv: tuple[str, ...]) -> tuple[str, dict[str, list[str]]]:
    """The script's name and its options with their values (the launcher's own come before it)."""
    at = next(i for i, token in enumerate(argv) if token.endswith(".py"))
    found: dict[str, list[str]] = {}
    name = ""
    for token in argv[at + 1:]:
        if token.startswith("--"):
            name = token[2:]
            found[name] = []
        else:
            found[name].append(token)
    return Path(argv[at]).name, found


def test_every_musubi_family_has_presets_and_they_name_their_models() -> None:
    presets = load_presets()
    musubi = [slug for slug, preset in presets.items() if preset.config.family in MUSUBI_FAMILIES]
    assert sorted(musubi) == sorted(MUSUBI_PRESETS)
    for slug in musubi:
        models = preset_table(slug, "models")
        assert {"dit", "vae"} <= set(models), slug
        assert all(int(m["size_bytes"]) > 100_000_000 and m["source"].startswith("https://")
                   for m in models.values())


@pytest.mark.parametrize("slug", MUSUBI_PRESETS)
def test_every_option_of_every_stage_is_in_the_real_parsers(slug: str) -> None:
    stages = _stages(slug)
    assert [s.key for s in stages] == ["latents", "text", "train"]
    for stage in stages:
        script, options = _script_options(stage.argv)
        real = OPTIONS["scripts"][script]
        for name, values in options.items():
            assert name in real, f"{slug}: --{name} is not an option of {script}"
            assert bool(values) == real[name]["value"], f"{slug}: --{name} {values}"
            kind = {"int": int, "float": float}.get(real[name].get("type", ""))
            if kind is not None:
                assert [kind(v) for v in values], f"{slug}: --{name} takes {kind.__name__}"
            if "choices" in real[name]:
                assert all(v in real[name]["choices"] for v in values), f"{slug}: --{name} {values}"


def test_qwen_image_commands_as_its_docs_give_them() -> None:
    latents, text, train = _stages("qwen-image-likeness-24gb")
    assert latents.argv[:2] == (LAUNCH.python, "/opt/musubi-tuner/src/musubi_tuner/qwen_image_cache_latents.py")
    assert _script_options(latents.argv)[1] == {"dataset_config": [str(FILES.dataset_config)],
                                                 "vae": ["/models/qwen_image_vae.safetensors"]}
    assert "--dit" in train.argv and "--vae" in train.argv and "--text_encoder" in train.argv
    assert train.argv[:7] == (LAUNCH.accelerate, "launch", "--num_cpu_threads_per_process", "1",
                              "--mixed_precision", "bf16",
                              "/opt/musubi-tuner/src/musubi_tuner/qwen_image_train_network.py")
    _, options = _script_options(train.argv)
    assert options["network_module"] == ["networks.lora_qwen_image"]
    assert options["timestep_sampling"] == ["shift"] and options["discrete_flow_shift"] == ["2.2"]
    assert options["fp8_base"] == options["fp8_scaled"] == [] and options["blocks_to_swap"] == ["16"]
    assert options["max_train_steps"] == ["1500"] and options["output_name"] == ["mia-main-v1"]
    assert _script_options(text.argv)[1]["batch_size"] == ["1"]


def test_wan_i2v_trains_both_experts_and_caches_i2v_latents() -> None:
    latents, text, train = _stages("wan22-i2v-motion-24gb")
    assert "--i2v" in latents.argv and "--t5" in text.argv
    _, options = _script_options(train.argv)
    assert options["task"] == ["i2v-A14B"] and options["timestep_boundary"] == ["900"]  # its parser: int
    assert "dit" in options and "dit_high_noise" in options and "offload_inactive_dit" in options
    assert options["network_module"] == ["networks.lora_wan"]
    assert "t5" not in options and "vae" not in options  # the caches carry them; docs' command leaves them out


def test_set_replaces_a_preset_option_under_musubi_name() -> None:
    config = with_preset_options(get_preset("qwen-image-fast-test").config, "qwen-image-fast-test")
    changed = _overrides(config, {"blocks_to_swap": "45", "fp8_scaled": "false", "network_dim": "8"})
    _, options = _script_options(musubi_stages(changed, LAUNCH, FILES, "x")[-1].argv)
    assert options["blocks_to_swap"] == ["45"] and "fp8_scaled" not in options
    assert options["network_dim"] == ["8"]
    with pytest.raises(InvalidInput, match="'output_dir' cannot be set"):
        _overrides(config, {"output_dir": "/tmp"})


def test_image_dataset_config_for_qwen() -> None:
    config = get_preset("qwen-image-likeness-24gb").config
    data = MusubiData(folder=Path("/x/img/2_mia woman"), images=12, clips=0, repeats=2, cache_dir=Path("/x/cache"))
    parsed = tomllib.loads(dataset_config_text(config, data, None))
    assert parsed["general"] == {"resolution": [1024, 1024], "caption_extension": ".txt", "batch_size": 1,
                                 "enable_bucket": True, "bucket_no_upscale": False}
    assert parsed["datasets"] == [{"image_directory": "/x/img/2_mia woman",
                                   "cache_directory": "/x/cache/images", "num_repeats": 2}]


def test_video_and_image_datasets_for_wan() -> None:
    config = get_preset("wan22-i2v-motion-24gb").config
    video = video_settings(preset_table("wan22-i2v-motion-24gb", "dataset"))
    data = MusubiData(folder=Path("/x/img/1_mia"), images=3, clips=4, repeats=1, cache_dir=Path("/x/cache"))
    parsed = tomllib.loads(dataset_config_text(config, data, video))
    assert [d.get("image_directory", d.get("video_directory")) for d in parsed["datasets"]] == ["/x/img/1_mia"] * 2
    clips = parsed["datasets"][1]
    assert clips["target_frames"] == [1, 17, 33] and clips["frame_extraction"] == "head"
    assert clips["cache_directory"] == "/x/cache/videos"
    only_clips = tomllib.loads(dataset_config_text(config, MusubiData(Path("/v"), 0, 2, 1, Path("/c")), video))
    assert [set(d) & {"image_directory", "video_directory"} for d in only_clips["datasets"]] == [{"video_directory"}]


def test_frame_counts_are_checked_plainly() -> None:
    with pytest.raises(InvalidInput, match=r"N\*4\+1 frames .* 16 would be cut down"):
        video_settings({"target_frames": [1, 16]})
    with pytest.raises(InvalidInput, match="frame_extraction must be one of"):
        video_settings({"frame_extraction": "middle"})

    class Clip:
        def __init__(self, name: str, frames: int) -> None:
            self.path, self.frames = Path(name), frames

    warnings = clip_warnings([Clip("a.mp4", 40), Clip("b.mp4", 12)], VideoSettings(target_frames=(17, 33)))
    assert warnings == ["1 clip(s) have fewer than 17 frames and would not be trained on: b.mp4."]
    assert clip_warnings([Clip("b.mp4", 3)], VideoSettings(target_frames=(17,), frame_extraction="full")) == []
