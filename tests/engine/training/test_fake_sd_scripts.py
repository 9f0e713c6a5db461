"""The sd-scripts stand-in prints what the real trainer printed, in the same order.

The same run as the recording (4 steps, 2 images, a checkpoint and 2 sample images every 2
steps) through the stand-in, its stdout and stderr in one pipe as the studio reads them; both
outputs reduced to the lines the studio reads (bars with or without a loss, epochs, sampling,
each prompt's settings, the nested image bars, saves) must be the same sequence.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from PIL import Image

from studio.engine.training.log_parser import LineSplitter, parse_bar
from tests.engine.training.helpers import FAKE_SD_SCRIPTS
from tests.fakes.fake_sd_scripts.fake_accelerate import write_launcher

RECORDED = Path(__file__).with_name("sd_scripts_sampling_run.json")
BROKEN = Path(__file__).with_name("sd_scripts_broken_checkpoint.txt")
_SETTING = re.compile(r"^(prompt|negative_prompt|height|width|sample_steps|scale|sample_sampler|seed): ")
_IMAGE_BAR = re.compile(r"^\s*\d+%\|[^|]*\| (\d+/\d+) ")


def shape(output: str) -> list[str]:
    splitter = LineSplitter()
    lines = splitter.feed(output.encode()) + splitter.flush()
    lines = lines[next(i for i, line in enumerate(lines) if line.startswith("running training")):]
    return [kind for line in lines if (kind := _kind(line))]


def _kind(line: str) -> str:
    if line.startswith("steps:"):
        bar = parse_bar(line)
        return f"bar {bar.step} {'loss' if bar.loss is not None else '-'}" if bar else "bar ?"
    if re.match(r"^epoch \d+/\d+$", line) or line == "model saved.":
        return line
    if line.startswith("generating sample images at step / "):
        return "sampling at " + line.rsplit(" ", 1)[-1]
    if _SETTING.match(line):
        return line  # each prompt's settings word for word
    if found := _IMAGE_BAR.match(line):
        return found.group(1)
    if line.startswith("saving checkpoint: "):
        return "save " + Path(line.split(": ", 1)[1]).name
    return ""


def dataset(tmp_path: Path) -> Path:
    """Two pictures with captions and their dataset_config.toml, as in the recorded runs."""
    images = tmp_path / "img" / "2_mia woman"
    images.mkdir(parents=True)
    for i in range(2):
        Image.new("RGB", (256, 256), (40 * i, 90, 60)).save(images / f"{i}.png")
        (images / f"{i}.txt").write_text("mia, woman, photo", encoding="utf-8")
    config = tmp_path / "dataset_config.toml"
    config.write_text(f'[general]\ncaption_extension = ".txt"\n[[datasets]]\nresolution = 256\n'
                      f'batch_size = 1\n[[datasets.subsets]]\nimage_dir = "{images}"\nnum_repeats = 1\n')
    return config


def run_stand_in(tmp_path: Path) -> str:
    config = dataset(tmp_path)
    prompts = tmp_path / "sample_prompts.txt"
    prompts.write_text("mia, portrait photo --n lowres, blurry --w 64 --h 64 --d 42 --s 2 --l 7\n"
                       "mia, full body --n lowres, blurry --w 64 --h 64 --d 43 --s 2 --l 7\n")
    model = tmp_path / "sd15.safetensors"
    model.write_bytes((8).to_bytes(8, "little") + b"{}      ")
    argv = [sys.executable, str(FAKE_SD_SCRIPTS / "train_network.py"), "--pretrained_model_name_or_path", str(model),
            "--dataset_config", str(config), "--output_dir", str(tmp_path / "out"), "--output_name", "mia",
            "--network_module", "networks.lora", "--max_train_steps", "4", "--save_every_n_steps", "2",
            "--sample_prompts", str(prompts), "--sample_every_n_steps", "2", "--sample_sampler", "euler_a",
            "--console_log_simple"]
    done = subprocess.run(argv, cwd=FAKE_SD_SCRIPTS, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          check=True, timeout=60, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    return done.stdout.decode()


def test_the_sample_phase_and_redraws_match_the_real_trainer(tmp_path: Path) -> None:
    real = "".join(text for _, text in json.loads(RECORDED.read_text(encoding="utf-8"))["chunks"])
    expected = shape(real)
    assert expected[:6] == ["bar 0 -", "epoch 1/2", "bar 1 -", "bar 1 loss", "bar 2 loss", "sampling at 2"]
    assert expected[-3:] == ["save mia.safetensors", "model saved.", "bar 4 loss"]
    assert shape(run_stand_in(tmp_path)) == expected
    samples = sorted(p.name.rsplit("_", 2)[0] + "_" + p.name.rsplit("_", 1)[1]
                     for p in (tmp_path / "out" / "sample").iterdir())
    assert samples == ["mia_000002_00_42.png", "mia_000002_01_43.png", "mia_000004_00_42.png", "mia_000004_01_43.png"]


def test_a_broken_checkpoint_under_accelerate_fails_as_the_real_one(tmp_path: Path) -> None:
    """Real: the trainer's traceback ending in safetensors' error, then accelerate's ending in
    CalledProcessError, exit status 1 (tests/engine/training/sd_scripts_broken_checkpoint.txt)."""
    real = BROKEN.read_text(encoding="utf-8").splitlines()
    model = tmp_path / "broken.safetensors"
    model.write_bytes(bytes.fromhex("5aed2265b76e8609") + b"\x00" * 992)  # the real file's length field
    launcher = write_launcher(tmp_path)
    argv = [str(launcher), "launch", "--num_cpu_threads_per_process", "1", str(FAKE_SD_SCRIPTS / "train_network.py"),
            "--pretrained_model_name_or_path", str(model), "--dataset_config", str(dataset(tmp_path)),
            "--output_dir", str(tmp_path / "out"), "--network_module", "networks.lora", "--console_log_simple"]
    done = subprocess.run(argv, check=False, cwd=FAKE_SD_SCRIPTS, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          timeout=60, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    lines = done.stdout.decode().splitlines()
    assert done.returncode == 1
    assert failure_shape(lines) == failure_shape(real)
    assert lines[lines.index("Traceback (most recent call last):") - 1] == f"load StableDiffusion checkpoint: {model}"


def failure_shape(lines: list[str]) -> list[str]:
    """The tracebacks' headers and last lines, the command in the launcher's replaced by '…'."""
    kept = [line for line in lines if line.startswith("Traceback") or re.match(r"^[\w.]+(Error|Exception): ", line)]
    return [re.sub(r"Command '\[.*\]'", "Command '[…]'", line) for line in kept]
