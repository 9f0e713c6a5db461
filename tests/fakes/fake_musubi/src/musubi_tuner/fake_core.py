"""A stand-in for kohya musubi-tuner's caching and training scripts (commit 30c658c): no GPU, no
model, the same command lines, dataset config checks, output and files.

Each script's parser is built from the real parsers' option list (tests/fakes/data/
musubi_options.json, captured from the real scripts), so an option the real script lacks, or a
value of the wrong kind (``--timestep_boundary 0.9``: the real parser takes int), fails here as
argparse fails there (``error: unrecognized arguments``, ``invalid int value``). The dataset config is checked
as ConfigSanitizer checks it (``extra keys not allowed @ data['general']['…']``). Output as the
real scripts print it (read from their source): ``logging.basicConfig(level=INFO)`` lines
(``INFO:musubi_tuner.cache_latents:Encoding dataset [0]``), the caches' bare tqdm meter on
stderr (``3it [00:00,  9.12it/s]``), the trainer's start block, ``steps:`` bar with
``avr_loss``, ``\\nepoch N/M``, ``\\nsaving checkpoint: <path>`` and ``model saved.``. Cache files
are named as musubi-tuner names them (``<stem>_<W>x<H>_<arch>.safetensors``,
``<stem>_<arch>_te.safetensors``); the trainer refuses to start without them, as the real one
finds no training items. LoRA files carry musubi-tuner's metadata (``ss_base_model_version``
qwen_image / wan, ``modelspec.architecture`` Qwen-Image/lora / wan2.1/lora).

Environment knobs for tests:
  FAKE_MUSUBI_STEP_S   seconds per training step (default 0.001)
  FAKE_MUSUBI_ITEM_S   seconds per cached batch (default 0)
  FAKE_MUSUBI_HANG_IN  "latents", "text" or "train": that stage hangs (after its first batch or
                       step) until it is killed
  FAKE_MUSUBI_FAIL_IN  "latents", "text" or "train": that stage fails with a CUDA out-of-memory
  FAKE_MUSUBI_ARGV_DIR each script writes the argv it got there as <script>.json
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
import tomllib
from pathlib import Path

import numpy as np
from safetensors.numpy import save_file

OPTIONS = Path(__file__).resolve().parents[3] / "data" / "musubi_options.json"
IMAGES = (".png", ".jpg", ".jpeg", ".webp", ".bmp")
VIDEOS = (".mp4", ".webm", ".mov", ".avi", ".mkv")
ASCENDABLE = {"caption_extension", "batch_size", "num_repeats", "resolution", "enable_bucket", "bucket_no_upscale"}
IMAGE_KEYS = ASCENDABLE | {"image_directory", "image_jsonl_file", "cache_directory", "control_directory",
                           "multiple_target", "fp_latent_window_size", "fp_1f_clean_indices",
                           "fp_1f_target_index", "fp_1f_no_post", "no_resize_control", "control_resolution"}
VIDEO_KEYS = ASCENDABLE | {"video_directory", "video_jsonl_file", "control_directory", "target_frames",
                           "frame_extraction", "frame_stride", "frame_sample", "max_frames",
                           "cache_directory", "source_fps", "fp_latent_window_size"}
ARCH = {"qwen_image": ("qi", "qwen_image", "Qwen-Image/lora"), "wan": ("wan", "wan", "wan2.1/lora")}
LOGGER = {"latents": "musubi_tuner.cache_latents", "text": "musubi_tuner.cache_text_encoder_outputs",
          "train": "musubi_tuner.training.trainer_base"}


def parser(script: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=script)
    for name, spec in json.loads(OPTIONS.read_text(encoding="utf-8"))["scripts"][script].items():
        if not spec["value"]:
            p.add_argument(f"--{name}", action="store_true")
        else:
            kind = {"int": int, "float": float}.get(spec.get("type", ""), str)
            p.add_argument(f"--{name}", nargs=spec.get("nargs"), choices=spec.get("choices"), type=kind,
                           default=None)
    return p


def info(stage: str, message: str) -> None:
    sys.stderr.write(f"INFO:{LOGGER[stage]}:{message}\n")
    sys.stderr.flush()


def fail(script: str, where: str, last: str) -> None:
    sys.stderr.write(f'Traceback (most recent call last):\n  File "src/musubi_tuner/{script}", line 1, '
                     f"in <module>\n    main()\n  {where}\n{last}\n")
    sys.exit(1)


def clock(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes:02d}:{secs:02d}"


def meter(n: int, elapsed: float) -> str:
    """tqdm's meter for an iterable of unknown length."""
    rate = f"{n / elapsed:5.2f}it/s" if n and elapsed > 0 else "?it/s"
    return f"{n}it [{clock(elapsed)}, {rate}]"


def load_config(script: str, path: str) -> dict:
    if not Path(path).is_file():
        fail(script, 'File "dataset/config_utils.py", line 300, in load_user_config',
             f"ValueError: dataset config file not found: {path}")
    config = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    problems = [f"extra keys not allowed @ data['general']['{k}']"
                for k in config.get("general", {}) if k not in ASCENDABLE]
    for i, dataset in enumerate(config.get("datasets", [])):
        allowed = VIDEO_KEYS if "video_directory" in dataset else IMAGE_KEYS
        problems += [f"extra keys not allowed @ data['datasets'][{i}]['{k}']" for k in dataset if k not in allowed]
        for f in dataset.get("target_frames", []):
            if (int(f) - 1) % 4:
                info("latents", f"target_frames {f} is not N*4+1; truncated")
    if problems:
        fail(script, 'File "dataset/config_utils.py", line 190, in sanitize_user_config',
             f"voluptuous.error.MultipleInvalid: {problems[0]}")
    return config


def items(config: dict) -> list[tuple[Path, Path, bool]]:
    """(file, its dataset's cache folder, is a clip) for every item of every dataset."""
    found = []
    for dataset in config.get("datasets", []):
        video = "video_directory" in dataset
        folder = Path(dataset.get("video_directory") or dataset.get("image_directory", ""))
        cache = Path(dataset.get("cache_directory") or folder)
        suffixes = VIDEOS if video else IMAGES
        found += [(p, cache, video) for p in sorted(folder.iterdir()) if p.suffix.lower() in suffixes]
    return found


def need_file(script: str, option: str, value: str | None) -> None:
    if value is None:
        fail(script, f"assert args.{option} is not None", f"AssertionError: {option} checkpoint is required")
    if not Path(value).is_file():
        fail(script, 'File "utils/safetensors_utils.py", line 40, in load_safetensors',
             f"FileNotFoundError: [Errno 2] No such file or directory: '{value}'")


def cache_name(item: Path, arch: str, stage: str) -> str:
    return f"{item.stem}_{arch}_te.safetensors" if stage == "text" else f"{item.stem}_0512x0512_{arch}.safetensors"


def run_cache(script: str, stage: str, family: str, args: argparse.Namespace) -> None:
    need_file(script, "vae" if stage == "latents" else ("t5" if family == "wan" else "text_encoder"),
              args.vae if stage == "latents" else (args.t5 if family == "wan" else args.text_encoder))
    info(stage, f"Load dataset config from {args.dataset_config}")
    config = load_config(script, args.dataset_config)
    arch = ARCH[family][0]
    pause = float(os.environ.get("FAKE_MUSUBI_ITEM_S", "0"))
    for index, dataset in enumerate(config.get("datasets", [])):
        info(stage, f"Encoding dataset [{index}]")
        dataset_items = items({"datasets": [dataset]})
        size = int(args.batch_size or 1) if stage == "text" else 1
        started = time.monotonic()
        sys.stderr.write(meter(0, 0) + "\r")
        for done, start in enumerate(range(0, len(dataset_items), size), start=1):
            time.sleep(pause)
            stage_hooks(stage, done)
            for item, cache, _ in dataset_items[start:start + size]:
                cache.mkdir(parents=True, exist_ok=True)
                tensors = {"latents": np.zeros((4, 8, 8), dtype=np.float16)}
                save_file(tensors, str(cache / cache_name(item, arch, stage)))
            end = "\r" if start + size < len(dataset_items) else "\n"
            sys.stderr.write(meter(done, time.monotonic() - started) + end)
            sys.stderr.flush()


def stage_hooks(stage: str, done: int) -> None:
    if os.environ.get("FAKE_MUSUBI_FAIL_IN") == stage:
        sys.stderr.write("\ntorch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB\n")
        sys.exit(1)
    if os.environ.get("FAKE_MUSUBI_HANG_IN") == stage and done >= 1:
        while True:
            time.sleep(0.05)


def check_caches(script: str, family: str, config: dict) -> int:
    arch, found = ARCH[family][0], 0
    for item, cache, _ in items(config):
        if (cache / cache_name(item, arch, "latents")).is_file() and (cache / cache_name(item, arch, "text")).is_file():
            found += 1
    if not found:
        fail(script, 'File "training/trainer_base.py", line 1449, in train',
             "ValueError: No training items found in the dataset. Please ensure that the latent/Text "
             "Encoder cache has been created beforehand.")
    return found


def run_train(script: str, family: str, args: argparse.Namespace) -> None:
    need_file(script, "dit", args.dit)
    if getattr(args, "dit_high_noise", None):  # Wan 2.2's second expert
        need_file(script, "dit_high_noise", args.dit_high_noise)
    config = load_config(script, args.dataset_config)
    repeats = max(int(d.get("num_repeats", 1)) for d in config.get("datasets", [{}]))
    count = check_caches(script, family, config) * repeats
    total = int(args.max_train_steps or 1600)
    epochs = -(-total // max(1, count))
    print("running training / 学習開始")
    print(f"  num train items / 学習画像、動画数: {count}")
    print(f"  num batches per epoch / 1epochのバッチ数: {count}")
    print(f"  num epochs / epoch数: {epochs}")
    print(f"  total optimization steps / 学習ステップ数: {total}", flush=True)
    train_loop(script, family, args, total, count)
    info("train", "model saved.")


def train_loop(script: str, family: str, args: argparse.Namespace, total: int, per_epoch: int) -> None:
    pause, started, losses = float(os.environ.get("FAKE_MUSUBI_STEP_S", "0.001")), time.monotonic(), []
    out = Path(args.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    for step in range(1, total + 1):
        if (step - 1) % per_epoch == 0:
            print(f"\nepoch {(step - 1) // per_epoch + 1}/{-(-total // per_epoch)}", flush=True)
        time.sleep(pause)
        stage_hooks("train", step)
        bar(step, total, started, losses)
        losses.append(0.12 / (1 + step * 0.1))
        every = int(args.save_every_n_steps or 0)
        if every and step % every == 0 and step < total:
            save(out / f"{args.output_name}-step{step:08d}.safetensors", family, args, step)
        bar(step, total, started, losses)
    save(out / f"{args.output_name}.safetensors", family, args, total)


def bar(step: int, total: int, started: float, losses: list[float]) -> None:
    elapsed = time.monotonic() - started
    rate = step / elapsed if elapsed > 0 else 0.0
    cells = "█" * (step * 10 // total)
    postfix = f", avr_loss={sum(losses) / len(losses):.3g}" if losses else ""
    left = clock((total - step) / rate) if rate else "?"
    sys.stderr.write(f"\rsteps: {step * 100 // total:3d}%|{cells:<10}| {step}/{total} "
                     f"[{clock(elapsed)}<{left}, {rate:5.2f}it/s{postfix}]")
    sys.stderr.flush()


def save(path: Path, family: str, args: argparse.Namespace, step: int) -> None:
    print(f"\nsaving checkpoint: {path}", flush=True)
    _, full, arch = ARCH[family]
    meta = {"ss_base_model_version": full, "modelspec.architecture": arch, "ss_steps": str(step),
            "ss_output_name": args.output_name, "ss_network_module": args.network_module or "",
            "ss_network_dim": str(args.network_dim), "ss_learning_rate": str(args.learning_rate),
            "modelspec.title": args.output_name, "ss_epoch": "1"}
    dim = int(args.network_dim or 4)
    save_file({"lora_unet_blocks_0_attn_q.lora_down.weight": np.zeros((dim, 16), dtype=np.float16),
               "lora_unet_blocks_0_attn_q.lora_up.weight": np.zeros((16, dim), dtype=np.float16)},
              str(path), metadata=meta)


def main(script: str, stage: str, family: str) -> None:
    argv_dir = os.environ.get("FAKE_MUSUBI_ARGV_DIR")
    if argv_dir:
        Path(argv_dir, f"{script}.json").write_text(json.dumps(sys.argv[1:]), encoding="utf-8")
    args = parser(script).parse_args()
    if stage == "train":
        run_train(script, family, args)
    else:
        run_cache(script, stage, family, args)
