"""A stand-in for kohya sd-scripts' train_network.py / sdxl_train_network.py (and, through
flux_train_network.py / sd3_train_network.py, the FLUX.1 and SD 3.5 scripts): no GPU, no model.

It takes sd-scripts' real command line and ``--dataset_config`` TOML, refuses what sd-scripts
refuses, and prints what ../shared/PROTOCOLS.md records: the start block on stdout, the tqdm bar
on stderr redrawn with ``\\r``, ``\\nepoch N/M``, ``\\nsaving checkpoint: <path>`` (printed
before the file is written, as sd-scripts does), ``model saved.``. Sample images are announced and
drawn as the real one does (``generating sample images at step …``, each prompt's settings, a
nested diffusers bar per image), between the step's two redraws. A .safetensors base model is
read as safetensors reads its header, and a broken one fails with safetensors' own error. It
writes real LoRA .safetensors files with ss_* metadata, sample PNGs and ``--save_state`` folders
with train_state.json, and resumes from one with ``--resume``. It imports nothing from ``studio``.
fake_accelerate.py stands in for ``accelerate launch``.

Environment knobs for tests:
  FAKE_SD_SCRIPTS_STEP_S       seconds per step (default 0.001)
  FAKE_SD_SCRIPTS_SAVE_S       pause between a checkpoint's header and its tensors (default 0)
  FAKE_SD_SCRIPTS_FAIL         "oom" (CUDA out of memory at FAIL_AT) or "missing_module" (at start)
  FAKE_SD_SCRIPTS_FAIL_AT      the step of an "oom" failure (default 1)
  FAKE_SD_SCRIPTS_HANG_AT      from this step on it hangs, with a child process, until killed
  FAKE_SD_SCRIPTS_IGNORE_TERM  "1": SIGTERM is ignored (only SIGKILL ends it)
  FAKE_SD_SCRIPTS_ARGV_FILE    the argv it got is written there as JSON
  FAKE_SD_SCRIPTS_SAMPLE_S     seconds per sampler step of a sample image (default 0)
  FAKE_SD_SCRIPTS_SAMPLE_HOLD  a path: each sampling waits before its first image until it exists
  FAKE_SD_SCRIPTS_SAMPLE_PICTURES  a JSON file {"<step>": ["a.png", "b.png", ...]}: the sampling at
                               that step writes prompt i's image as a copy of the i-th PNG (cycling),
                               so tests choose whose face each checkpoint's samples show; other
                               steps draw the flat-colour image
"""
from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import random
import signal
import struct
import subprocess
import sys
import time
import tomllib
import zlib
from pathlib import Path

import numpy as np
from safetensors.numpy import save as save_tensors

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".webp", ".bmp"}
GENERAL_KEYS = {"shuffle_caption", "caption_extension", "keep_tokens", "keep_tokens_separator",
                "color_aug", "flip_aug", "face_crop_aug_range", "random_crop", "caption_dropout_rate",
                "caption_dropout_every_n_epochs", "caption_tag_dropout_rate", "caption_prefix",
                "caption_suffix", "token_warmup_min", "token_warmup_step", "resolution", "batch_size",
                "enable_bucket", "min_bucket_reso", "max_bucket_reso", "bucket_reso_steps",
                "bucket_no_upscale", "alpha_mask", "secondary_separator", "enable_wildcard"}
DATASET_KEYS = {"resolution", "batch_size", "enable_bucket", "min_bucket_reso", "max_bucket_reso",
                "bucket_reso_steps", "bucket_no_upscale", "subsets"}
SUBSET_KEYS = {"image_dir", "num_repeats", "class_tokens", "caption_extension", "keep_tokens",
               "shuffle_caption", "flip_aug", "color_aug", "random_crop", "is_reg",
               "caption_dropout_rate", "caption_tag_dropout_rate", "caption_dropout_every_n_epochs",
               "face_crop_aug_range", "caption_prefix", "caption_suffix", "token_warmup_min",
               "token_warmup_step", "keep_tokens_separator", "alpha_mask", "secondary_separator",
               "enable_wildcard"}


def parser(sdxl: bool) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser()
    a = p.add_argument
    a("--pretrained_model_name_or_path", type=str, default=None)
    a("--dataset_config", type=Path, default=None)
    a("--train_data_dir", type=str, default=None)
    a("--reg_data_dir", type=str, default=None)
    a("--output_dir", type=str, default=None)
    a("--output_name", type=str, default=None)
    a("--network_module", type=str, default=None)
    a("--network_dim", type=int, default=None)
    a("--network_alpha", type=float, default=1)
    a("--network_args", type=str, default=None, nargs="*")
    a("--network_weights", type=str, default=None)
    a("--network_train_unet_only", action="store_true")
    a("--network_train_text_encoder_only", action="store_true")
    a("--learning_rate", type=float, default=2.0e-6)
    a("--unet_lr", type=float, default=None)
    a("--text_encoder_lr", type=float, default=None, nargs="*")
    a("--max_train_steps", type=int, default=1600)
    a("--max_train_epochs", type=int, default=None)
    a("--save_every_n_steps", type=int, default=None)
    a("--save_every_n_epochs", type=int, default=None)
    a("--save_last_n_steps", type=int, default=None)
    a("--save_last_n_epochs", type=int, default=None)
    a("--save_model_as", type=str, default="safetensors", choices=[None, "ckpt", "pt", "safetensors"])
    a("--save_precision", type=str, default=None, choices=[None, "float", "fp16", "bf16"])
    a("--mixed_precision", type=str, default="no", choices=["no", "fp16", "bf16"])
    a("--resolution", type=str, default=None)
    a("--train_batch_size", type=int, default=1)
    a("--enable_bucket", action="store_true")
    a("--min_bucket_reso", type=int, default=256)
    a("--max_bucket_reso", type=int, default=1024)
    a("--bucket_reso_steps", type=int, default=64)
    a("--caption_extension", type=str, default=".caption")
    a("--seed", type=int, default=None)
    a("--optimizer_type", type=str, default="")
    a("--optimizer_args", type=str, default=None, nargs="*")
    a("--lr_scheduler", type=str, default="constant")
    a("--lr_warmup_steps", type=int, default=0)
    a("--sample_prompts", type=str, default=None)
    a("--sample_every_n_steps", type=int, default=None)
    a("--sample_every_n_epochs", type=int, default=None)
    a("--sample_at_first", action="store_true")
    a("--sample_sampler", type=str, default="ddim")
    a("--log_with", type=str, default=None, choices=["tensorboard", "wandb", "all"])
    a("--logging_dir", type=str, default=None)
    a("--save_state", action="store_true")
    a("--save_state_on_train_end", action="store_true")
    a("--resume", type=str, default=None)
    a("--skip_until_initial_step", action="store_true")
    a("--console_log_simple", action="store_true")
    a("--cache_latents", action="store_true")
    a("--gradient_checkpointing", action="store_true")
    a("--sdpa", action="store_true")
    a("--xformers", action="store_true")
    a("--max_data_loader_n_workers", type=int, default=8)
    a("--lowram", action="store_true")  # a few of the real parser's ~190 options that the studio
    a("--highvram", action="store_true")  # has no typed setting for (the --set tests use them)
    a("--full_fp16", action="store_true")
    a("--full_bf16", action="store_true")
    a("--tokenizer_cache_dir", type=str, default=None)
    if sdxl:
        a("--cache_text_encoder_outputs", action="store_true")
    return p


# Output as sd-scripts prints it ------------------------------------------------------------------

def log(message: str) -> None:
    print(message, flush=True)


def traceback_exit(script: str, lines: list[str], last: str) -> None:
    sys.stderr.write("Traceback (most recent call last):\n"
                     f'  File "{script}", line 1115, in <module>\n    trainer.train(args)\n'
                     + "".join(f"  {line}\n" for line in lines) + last + "\n")
    sys.stderr.flush()
    sys.exit(1)


def clock(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours:d}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


def bar(n: int, total: int, elapsed: float, postfix: str, desc: str = "steps") -> str:
    """tqdm's default meter, with the bar 10 cells wide as it is when not on a terminal."""
    frac = n / total if total else 0
    cells = frac * 10
    full = int(cells)
    blocks = " ▏▎▍▌▋▊▉█"
    partial = blocks[int((cells - full) * 8)] if full < 10 else ""
    drawn = ("█" * full + partial).ljust(10)
    rate = n / elapsed if elapsed > 0 and n else None
    if rate is None:
        rate_text, remaining = "?it/s", "?"
    else:
        rate_text = f"{rate:5.2f}it/s" if rate >= 1 else f"{1 / rate:5.2f}s/it"
        remaining = clock((total - n) / rate)
    tail = f", {postfix}" if postfix else ""
    head = f"{desc}: " if desc else ""
    return f"{head}{frac * 100:3.0f}%|{drawn}| {n}/{total} [{clock(elapsed)}<{remaining}, {rate_text}{tail}]"


def redraw(n: int, total: int, clock0: float, window: list[float]) -> None:
    """One tqdm redraw on stderr; the postfix is the moving average of the losses so far."""
    postfix = f"avr_loss={sum(window) / len(window):2.3g}" if window else ""
    sys.stderr.write("\r" + bar(n, total, time.monotonic() - clock0, postfix))
    sys.stderr.flush()


# Checks sd-scripts makes ---------------------------------------------------------------------------

def load_dataset_config(path: Path, script: str) -> dict:
    if not path.is_file():
        traceback_exit(script, ['File "library/config_util.py", line 731, in load_user_config'],
                       f"ValueError: dataset config file not found: {path}")
    try:
        config = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        traceback_exit(script, ['File "library/config_util.py", line 723, in load_user_config'],
                       f"ValueError: Invalid config file: {path}: {exc}")
    problems = [f"extra keys not allowed @ data['general']['{k}']"
                for k in config.get("general", {}) if k not in GENERAL_KEYS]
    problems += [f"extra keys not allowed @ data['{k}']" for k in config if k not in ("general", "datasets")]
    for i, dataset in enumerate(config.get("datasets", [])):
        problems += [f"extra keys not allowed @ data['datasets'][{i}]['{k}']"
                     for k in dataset if k not in DATASET_KEYS]
        for j, subset in enumerate(dataset.get("subsets", [])):
            problems += [f"extra keys not allowed @ data['datasets'][{i}]['subsets'][{j}]['{k}']"
                         for k in subset if k not in SUBSET_KEYS]
            if "image_dir" not in subset:
                problems.append(f"required key not provided @ data['datasets'][{i}]['subsets'][{j}]['image_dir']")
    if problems:
        log("Invalid user config / ユーザ設定の形式が正しくないようです")
        traceback_exit(script, ['File "library/config_util.py", line 330, in sanitize_user_config'],
                       f"voluptuous.error.MultipleInvalid: {problems[0]}")
    return config


def count_images(config: dict) -> tuple[int, int, int, dict]:
    """(images × repeats, images, batch size, tag frequency) as sd-scripts would load them."""
    general = config.get("general", {})
    total, images, batch, tags = 0, 0, 1, {}
    for dataset in config.get("datasets", []):
        batch = int(dataset.get("batch_size", general.get("batch_size", 1)))
        for subset in dataset.get("subsets", []):
            folder = Path(subset["image_dir"])
            if not folder.is_dir():
                log(f"not directory: {folder}")
                continue
            files = [p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES]
            repeats = int(subset.get("num_repeats", 1))
            images += len(files)
            total += len(files) * repeats
            counts: dict[str, int] = {}
            for f in files:
                caption = f.with_suffix(subset.get("caption_extension", general.get("caption_extension", ".caption")))
                for tag in (caption.read_text("utf-8").split(",") if caption.is_file() else []):
                    counts[tag.strip()] = counts.get(tag.strip(), 0) + 1
            tags[f"{repeats}_{folder.name}"] = counts
    return total, images, batch, tags


def check_buckets(config: dict, script: str) -> None:
    for dataset in config.get("datasets", []):
        steps = int(dataset.get("bucket_reso_steps", 64))
        for key in ("min_bucket_reso", "max_bucket_reso"):
            value = dataset.get(key)
            if dataset.get("enable_bucket") and value is not None and value % steps:
                traceback_exit(script, ['File "library/train_util.py", line 652, in __init__'],
                               f"AssertionError: {key} must be divisible by bucket_reso_steps / "
                               f"{key}はbucket_reso_stepsで割り切れる必要があります")


# Files ---------------------------------------------------------------------------------------------

def lora_tensors(args: argparse.Namespace, sdxl: bool, step: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(step + (args.seed or 0))
    dim = args.network_dim or 4
    modules = ["lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn1_to_q",
               "lora_unet_mid_block_attentions_0_transformer_blocks_0_attn2_to_k"]
    if not args.network_train_unet_only:
        modules += (["lora_te1_text_model_encoder_layers_0_self_attn_q_proj",
                     "lora_te2_text_model_encoder_layers_0_self_attn_q_proj"] if sdxl
                    else ["lora_te_text_model_encoder_layers_0_self_attn_q_proj"])
    tensors = {}
    for module in modules:
        tensors[f"{module}.lora_down.weight"] = rng.standard_normal((dim, 64)).astype(np.float16)
        tensors[f"{module}.lora_up.weight"] = np.zeros((64, dim), dtype=np.float16)
        tensors[f"{module}.alpha"] = np.array(args.network_alpha, dtype=np.float16)
    return tensors


def write_lora(path: Path, args: argparse.Namespace, sdxl: bool, meta: dict[str, str], step: int) -> None:
    tensors = lora_tensors(args, sdxl, step)
    plain = save_tensors(tensors, metadata=meta)
    header = int.from_bytes(plain[:8], "little")
    meta = {**meta, "sshs_model_hash": hashlib.sha256(plain[8 + header:]).hexdigest()}
    data = save_tensors(tensors, metadata=meta)
    cut = 8 + int.from_bytes(data[:8], "little")
    pause = float(os.environ.get("FAKE_SD_SCRIPTS_SAVE_S", "0"))
    with open(path, "wb") as out:  # written in place, as torch and safetensors do
        out.write(data[:cut])
        out.flush()
        time.sleep(pause)
        out.write(data[cut:])


# What the real FLUX.1 / SD 3.5 scripts record (flux_utils.MODEL_VERSION_FLUX_V1, sd3_utils'
# model_type, sai_model_spec.determine_architecture): (ss_base_model_version, architecture).
FAMILY_META = {"flux1": ("flux1", "flux-1-dev/lora"),
               "sd35": ("5-medium", "stable-diffusion-3-5-medium/lora")}
# The files each script loads beside the model (a missing one fails as loading it does).
FAMILY_FILES = {"flux1": ("clip_l", "t5xxl", "ae"), "sd35": ("clip_l", "clip_g", "t5xxl")}


def metadata(args: argparse.Namespace, sdxl: bool, *, images: int, epochs: int, total: int,
             epoch: int, step: int, started: float, tags: dict, name: str) -> dict[str, str]:
    return {"ss_output_name": name, "ss_network_module": args.network_module,
            "ss_network_dim": str(args.network_dim), "ss_network_alpha": f"{args.network_alpha:g}",
            "ss_base_model_version": FAMILY_META.get(getattr(args, "fake_family", ""), (
                "sdxl_base_v1-0" if sdxl else "sd_v1", ""))[0],
            "ss_learning_rate": str(args.learning_rate), "ss_unet_lr": str(args.unet_lr),
            "ss_num_train_images": str(images), "ss_num_epochs": str(epochs),
            "ss_max_train_steps": str(total), "ss_seed": str(args.seed),
            "ss_training_started_at": str(started), "ss_training_finished_at": str(time.time()),
            "ss_steps": str(step), "ss_epoch": str(epoch), "ss_mixed_precision": args.mixed_precision,
            "ss_optimizer": args.optimizer_type or "torch.optim.adamw.AdamW",
            "ss_tag_frequency": json.dumps(tags), "ss_datasets": json.dumps([{"num_train_images": images}]),
            "modelspec.architecture": FAMILY_META.get(getattr(args, "fake_family", ""), (
                "", "stable-diffusion-xl-v1-base/lora" if sdxl else "stable-diffusion-v1/lora"))[1],
            "modelspec.title": name}


def save_state(folder: Path, epoch: int, step: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "optimizer.bin").write_bytes(os.urandom(256))
    (folder / "train_state.json").write_text(json.dumps({"current_epoch": epoch, "current_step": step}))


def png(width: int, height: int, seed: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    shade = bytes([(seed * 37) % 256, (seed * 91) % 256, 140])
    rows = b"".join(b"\x00" + shade * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


SAMPLER_CLASSES = {"ddim": "DDIMScheduler", "euler": "EulerDiscreteScheduler",
                   "euler_a": "EulerAncestralDiscreteScheduler", "dpmsolver++": "DPMSolverMultistepScheduler"}


def prompt_settings(line: str, sampler: str) -> dict:
    """A prompt line as sd-scripts reads it: the text up to the first `` --``, then options."""
    parts = line.split(" --")
    found: dict = {"prompt": parts[0], "negative_prompt": None, "height": 512, "width": 512,
                   "sample_steps": 30, "scale": 7.5, "sample_sampler": sampler, "seed": None}
    keys = {"w": ("width", int), "h": ("height", int), "d": ("seed", int), "s": ("sample_steps", int),
            "l": ("scale", float), "n": ("negative_prompt", str), "ss": ("sample_sampler", str)}
    for part in parts[1:]:
        key, _, value = part.partition(" ")
        if key.lower() in keys and value:
            field, kind = keys[key.lower()]
            found[field] = kind(value)
    found["sample_steps"] = max(1, min(1000, found["sample_steps"]))
    for side in ("height", "width"):
        found[side] = max(64, found[side] - found[side] % 8)
    return found


def scheduler_warning(sampler: str) -> str:
    """What diffusers warns (on stderr) each time sd-scripts builds its sampling pipeline."""
    name = SAMPLER_CLASSES.get(sampler, "EulerAncestralDiscreteScheduler")
    return ("/venv/lib/python3.11/site-packages/diffusers/pipelines/stable_diffusion/"
            "pipeline_stable_diffusion.py:221: FutureWarning: The configuration file of this scheduler: "
            f'{name} {{\n  "_class_name": "{name}",\n  "steps_offset": 0\n}}\n is outdated. `steps_offset`'
            " should be set to 1 instead of 0. Please make sure to update the config accordingly as leaving"
            " `steps_offset` might led to incorrect results in future versions.\n"
            '  deprecate("steps_offset!=1", "1.0.0", deprecation_message, standard_warn=False)\n')


def sample_images(args: argparse.Namespace, name: str, label: str, step: int) -> None:
    """As sd-scripts: the announcement and each prompt's settings on stdout, diffusers' nested
    bar per image on stderr (drawn one line down and moved back up with ``\\x1b[A``), then the
    PNG, named <output_name>_<step or eNNNNNN>_<index>_<time>_<seed>.png."""
    if not args.sample_prompts:
        return
    log(f"\ngenerating sample images at step / サンプル画像生成 ステップ: {step}")
    prompts = [line.strip() for line in Path(args.sample_prompts).read_text("utf-8").splitlines()
               if line.strip() and not line.startswith("#")]
    sys.stderr.write(scheduler_warning(args.sample_sampler))
    sys.stderr.flush()
    folder = Path(args.output_dir) / "sample"
    folder.mkdir(parents=True, exist_ok=True)
    for index, line in enumerate(prompts):
        found = prompt_settings(line, args.sample_sampler)
        for key in ("prompt", "negative_prompt", "height", "width", "sample_steps", "scale", "sample_sampler",
                    "seed"):
            if key != "seed" or found["seed"] is not None:
                log(f"{key}: {found[key]}")
        hold = os.environ.get("FAKE_SD_SCRIPTS_SAMPLE_HOLD")
        while index == 0 and hold and not Path(hold).exists():
            time.sleep(0.05)
        draw_sample(found["sample_steps"])
        suffix = "" if found["seed"] is None else f"_{found['seed']}"
        stamp = time.strftime("%Y%m%d%H%M%S")
        drawn = chosen_picture(step, index) or png(32, 32, index + len(label))
        (folder / f"{name}_{label}_{index:02d}_{stamp}{suffix}.png").write_bytes(drawn)


def chosen_picture(step: int, index: int) -> bytes | None:
    """The PNG a test chose for this step's index-th sample (FAKE_SD_SCRIPTS_SAMPLE_PICTURES)."""
    listing = os.environ.get("FAKE_SD_SCRIPTS_SAMPLE_PICTURES")
    if not listing:
        return None
    pictures = json.loads(Path(listing).read_text("utf-8")).get(str(step)) or []
    return Path(pictures[index % len(pictures)]).read_bytes() if pictures else None


def draw_sample(steps: int) -> None:
    pause = float(os.environ.get("FAKE_SD_SCRIPTS_SAMPLE_S", "0"))
    started = time.monotonic()
    sys.stderr.write("\n\r" + bar(0, steps, 0.0, "", desc="") + "\x1b[A")
    for n in range(1, steps + 1):
        time.sleep(pause)
        sys.stderr.write("\n\r" + bar(n, steps, time.monotonic() - started, "", desc="") + "\x1b[A")
        sys.stderr.flush()
    sys.stderr.write("\r" + bar(steps, steps, time.monotonic() - started, "", desc="") + "\n")
    sys.stderr.flush()


# The run ---------------------------------------------------------------------------------------------

def hang(output_dir: Path) -> None:
    child = subprocess.Popen([sys.executable, "-c", "import signal, time\n"
                              "signal.signal(signal.SIGTERM, signal.SIG_IGN) if "
                              f"{os.environ.get('FAKE_SD_SCRIPTS_IGNORE_TERM') == '1'} else None\n"
                              "time.sleep(600)"])
    (output_dir / "fake-child.pid").write_text(str(child.pid))
    (output_dir / "fake-trainer.pid").write_text(str(os.getpid()))
    while True:
        time.sleep(1)


def main(sdxl: bool, family: str = "", build=None) -> None:
    """``family``: flux1 or sd35 for the FLUX.1 / SD 3.5 scripts, whose ``build`` makes the
    real parser (real_options.py)."""
    script = sys.argv[0]
    args = (build() if build else parser(sdxl)).parse_args()
    args.fake_family = family
    if os.environ.get("FAKE_SD_SCRIPTS_ARGV_FILE"):
        Path(os.environ["FAKE_SD_SCRIPTS_ARGV_FILE"]).write_text(json.dumps(sys.argv[1:]))
    if os.environ.get("FAKE_SD_SCRIPTS_IGNORE_TERM") == "1":
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    fail = os.environ.get("FAKE_SD_SCRIPTS_FAIL", "")
    if fail == "missing_module":
        traceback_exit(script, ['File "library/train_util.py", line 27, in <module>',
                                "from diffusers import StableDiffusionPipeline"],
                       "ModuleNotFoundError: No module named 'diffusers'")
    __import__(args.network_module or "networks.lora")
    model = Path(args.pretrained_model_name_or_path or "")
    if not (model.is_file() or (model / "model_index.json").is_file()):
        traceback_exit(script, ['File "library/model_util.py", line 1005, '
                                'in load_models_from_stable_diffusion_checkpoint'],
                       f"FileNotFoundError: [Errno 2] No such file or directory: '{model}'")
    for option in FAMILY_FILES.get(family, ()):  # sd-scripts opens each with safetensors
        given = getattr(args, option) or ""
        if not Path(given).is_file():
            traceback_exit(script, ['File "library/utils.py", line 356, in load_safetensors'],
                           f"FileNotFoundError: No such file or directory: \"{given}\"")
    if args.dataset_config is None:
        log("no dataset config given; this fake only reads --dataset_config")
        sys.exit(1)
    config = load_dataset_config(args.dataset_config, script)
    check_buckets(config, script)
    general = config.get("general", {})
    if args.cache_latents and (general.get("color_aug") or general.get("random_crop")):
        traceback_exit(script, [], "AssertionError: when caching latents, either color_aug or random_crop "
                                   "cannot be used")
    if (sdxl or family) and getattr(args, "cache_text_encoder_outputs", False):
        if general.get("shuffle_caption") or general.get("caption_dropout_rate"):
            traceback_exit(script, [], "AssertionError: when caching Text Encoder output, either caption_dropout_rate, "
                                       "shuffle_caption, token_warmup_step or caption_tag_dropout_rate cannot be used")
        if sdxl and not args.network_train_unet_only:
            traceback_exit(script, [], "AssertionError: network for Text Encoder cannot be trained with caching "
                                       "Text Encoder outputs")
    total_images, images, batch, tags = count_images(config)
    if total_images == 0:
        log("No data found. Please verify arguments (train_data_dir must be the parent of folders with images) "
            "/ 画像がありません。引数指定を確認してください"
            "（train_data_dirには画像があるフォルダではなく、画像があるフォルダの親フォルダを指定する必要があります）")
        return
    load_model(model, script)
    run(args, sdxl, script, total_images=total_images, images=images, batch=batch, tags=tags)


def load_model(model: Path, script: str) -> None:
    """Reads a .safetensors checkpoint's header as safetensors does; a broken one ends the run with
    the traceback sd-scripts prints (its frames, safetensors' error)."""
    log("loading model for process 0/1")
    if not model.is_file():
        return  # a Diffusers folder: nothing of it is read here
    log(f"load StableDiffusion checkpoint: {model}")
    problem = safetensors_problem(model) if model.suffix == ".safetensors" else None
    if problem:
        traceback_exit(script, [
            'File "train_network.py", line 602, in train',
            "  model_version, text_encoder, vae, unet = self.load_target_model(args, weight_dtype, accelerator)",
            'File "library/model_util.py", line 978, in load_checkpoint_with_text_encoder_conversion',
            "  state_dict = load_file(ckpt_path)  # , device) # may causes error",
            'File "safetensors/torch.py", line 313, in load_file',
            '  with safe_open(filename, framework="pt", device=device) as f:'],
            f"safetensors_rust.SafetensorError: Error while deserializing header: {problem}")


def safetensors_problem(path: Path) -> str | None:
    """safetensors' name for what is wrong with a file's header (8 bytes of length, then JSON)."""
    with open(path, "rb") as f:
        head = f.read(8)
        if len(head) < 8:
            return "HeaderTooSmall"
        size = int.from_bytes(head, "little")
        if size > 100_000_000:
            return "HeaderTooLarge"
        if 8 + size > path.stat().st_size:
            return "InvalidHeaderLength"
        raw = f.read(size)
    try:
        header = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        return "InvalidHeader"
    except ValueError:
        return "InvalidHeaderDeserialization"
    return None if isinstance(header, dict) else "InvalidHeaderDeserialization"


def run(args: argparse.Namespace, sdxl: bool, script: str, *, total_images: int, images: int,
        batch: int, tags: dict) -> None:
    per_epoch = math.ceil(total_images / batch)
    total = per_epoch * args.max_train_epochs if args.max_train_epochs else args.max_train_steps
    epochs = math.ceil(total / per_epoch)
    out = Path(args.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    name = args.output_name or "last"
    initial = first_epoch = 0  # initial: the step the count and the bar start from
    if args.resume:
        state = Path(args.resume) / "train_state.json"
        if not state.is_file():
            traceback_exit(script, [], f"FileNotFoundError: [Errno 2] No such file or directory: '{state}'")
        saved = int(json.loads(state.read_text())["current_step"])
        log(f"resume training from local state: {args.resume}")
        # As sd-scripts: the epoch number moves on, but only --skip_until_initial_step skips the saved
        # steps; without it the count and the training start again at step 0. (Past the first epoch
        # real sd-scripts counts on from the step within the epoch, kohya-ss/sd-scripts#1406; this counts on.)
        first_epoch = saved // per_epoch
        if args.skip_until_initial_step:
            log(f"skipping {saved} steps / {saved}ステップをスキップします")
            initial = saved
    log("running training / 学習開始")
    log(f"  num train images * repeats / 学習画像の数×繰り返し回数: {total_images}")
    log("  num reg images / 正則化画像の数: 0")
    log(f"  num batches per epoch / 1epochのバッチ数: {per_epoch}")
    log(f"  num epochs / epoch数: {epochs}")
    log(f"  batch size per device / バッチサイズ: {batch}")
    log("  gradient accumulation steps / 勾配を合計するステップ数 = 1")
    log(f"  total optimization steps / 学習ステップ数: {total}")
    step_s = float(os.environ.get("FAKE_SD_SCRIPTS_STEP_S", "0.001"))
    fail_at = int(os.environ.get("FAKE_SD_SCRIPTS_FAIL_AT", "1"))
    hang_at = int(os.environ.get("FAKE_SD_SCRIPTS_HANG_AT", "0"))
    oom = os.environ.get("FAKE_SD_SCRIPTS_FAIL") == "oom"
    rng = random.Random(args.seed or 0)
    started = time.time()
    clock0 = time.monotonic()
    losses: list[float] = []
    step = initial
    meta = {"args": args, "sdxl": sdxl, "images": images, "epochs": epochs, "total": total,
            "started": started, "tags": tags}
    if args.sample_at_first:  # before the bar exists, labelled as epoch 0
        sample_images(args, name, "e000000", 0)
    sys.stderr.write("\r" + bar(0, total - initial, 0.0, ""))
    sys.stderr.flush()
    skip = initial - first_epoch * per_epoch if initial else 0  # batches left out of the first epoch
    for epoch in range(first_epoch, epochs):
        log(f"\nepoch {epoch + 1}/{epochs}\n")
        log(f"epoch is incremented. current_epoch: {epoch}, epoch: {epoch + 1}")
        for _ in range(per_epoch - (skip if epoch == first_epoch else 0)):
            if step >= total:
                break
            step += 1
            if hang_at and step >= hang_at:
                hang(out)
            if oom and step >= fail_at:
                traceback_exit(script, ['File "train_network.py", line 1002, in train',
                                        "accelerator.backward(loss)"],
                               "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 512.00 MiB. GPU 0 "
                               "has a total capacity of 11.76 GiB of which 301.56 MiB is free.")
            time.sleep(step_s)
            # As sd-scripts: update(1) redraws the new step with the previous step's loss, then it
            # samples and saves, then set_postfix redraws the step with its own loss.
            redraw(step - initial, total - initial, clock0, losses[-per_epoch:])
            losses.append(0.12 * math.exp(-step / max(total, 1)) + 0.02 + rng.uniform(-0.01, 0.01))
            if args.sample_every_n_steps and not args.sample_every_n_epochs and step % args.sample_every_n_steps == 0:
                sample_images(args, name, f"{step:06d}", step)
            # Also at the last step (the final file then holds the same weights), and with the
            # running epoch's 0-based index as ss_epoch, as sd-scripts does.
            if args.save_every_n_steps and step % args.save_every_n_steps == 0:
                save(out, f"{name}-step{step:08d}", args, meta, epoch + 1, step, ss_epoch=epoch)
            redraw(step - initial, total - initial, clock0, losses[-per_epoch:])
        if args.save_every_n_epochs and (epoch + 1) % args.save_every_n_epochs == 0 and epoch + 1 < epochs:
            save(out, f"{name}-{epoch + 1:06d}", args, meta, epoch + 1, step)
        if args.sample_every_n_epochs and (epoch + 1) % args.sample_every_n_epochs == 0:
            sample_images(args, name, f"e{epoch + 1:06d}", step)
    save(out, name, args, meta, epochs, step, state_on_end=args.save_state_on_train_end)
    log("model saved.")
    # tqdm closes the bar as the script ends: the last step drawn a third time, then a newline.
    redraw(step - initial, total - initial, clock0, losses[-per_epoch:])
    sys.stderr.write("\n")
    sys.stderr.flush()


def save(out: Path, stem: str, args: argparse.Namespace, meta: dict, epoch: int, step: int, *,
         ss_epoch: int | None = None, state_on_end: bool | None = None) -> None:
    path = out / f"{stem}.safetensors"
    log(f"\nsaving checkpoint: {path}")
    fields = metadata(meta["args"], meta["sdxl"], images=meta["images"], epochs=meta["epochs"],
                      total=meta["total"], epoch=epoch if ss_epoch is None else ss_epoch, step=step,
                      started=meta["started"],
                      tags=meta["tags"], name=stem)
    write_lora(path, args, meta["sdxl"], fields, step)
    if (args.save_state if state_on_end is None else state_on_end):
        save_state(out / f"{stem}-state", epoch, step)
