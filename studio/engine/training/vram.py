"""How much GPU memory a FLUX.1 or SD 3.5 training needs, and what makes it fit a smaller card.

A preset's vram_gb names the card it was set up for; once the user changes fp8_base,
blocks_to_swap, the resolution or the batch, that number no longer says what the run needs.
This estimates it from the model's weights (bf16, halved by fp8), the blocks swapped to system
memory, the activations at the resolution and a fixed overhead, and the peak while the text
encoders' outputs are cached first. The figures are kohya's FLUX.1 guide's table
(docs/flux_train_network.md: 24 GB as is, 16 GB with block swap, 12 GB with 16 blocks, 8 GB
with 28) made into a rule; they are a guide, not a measurement.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path

from studio.engine.training.config import TrainingConfig, load_presets

OVERHEAD_GB = 2.5  # CUDA context, the LoRA and its optimizer state, buffers
T5XXL_GB = 9.8  # T5-XXL in bf16, on the GPU while captions are encoded
# FLUX.1: 19 double blocks (~0.68 GB each in bf16) and 38 single blocks (~0.28 GB), ~0.24 GB
# besides; blocks_to_swap N swaps N // 2 double and (N - N // 2) * 2 single blocks.
FLUX_DOUBLE_GB, FLUX_SINGLE_GB, FLUX_REST_GB = 0.68, 0.28, 0.24
# SD 3.5: Medium ~2.5 B parameters in 24 joint blocks, Large ~8 B in 38.
SD35 = {"medium": (5.0, 24), "large": (16.2, 38)}
SD35_LARGE_BYTES = 10_000_000_000
ACTIVATIONS_GB = {"flux1": 2.0, "sd35": 1.5}  # at 1024 px, batch 1, gradient checkpointing
MAX_SWAP = {"flux1": 35, "sd35": 36}


def estimate_gb(config: TrainingConfig) -> float | None:
    """The GPU memory the run needs at its peak, in GB; None for a family without a rule."""
    if config.family not in ACTIVATIONS_GB:
        return None
    fp8 = 0.5 if config.fp8_base or config.fp8_base_unet else 1.0
    weights = _weights_on_gpu(config) * fp8
    pixels = (config.resolution / 1024) ** 2 * config.train_batch_size
    activations = ACTIVATIONS_GB[config.family] * pixels * (1 if config.gradient_checkpointing else 3)
    encoder = T5XXL_GB * (0.5 if config.fp8_base and not config.fp8_base_unet else 1.0) + 1.0
    training = weights + activations + OVERHEAD_GB
    if config.cache_text_encoder_outputs:
        return max(training, encoder)  # encoded once, then the encoders leave the GPU
    return training + encoder


def _weights_on_gpu(config: TrainingConfig) -> float:
    swap = config.blocks_to_swap or 0
    if config.family == "flux1":
        total = 19 * FLUX_DOUBLE_GB + 38 * FLUX_SINGLE_GB + FLUX_REST_GB
        return total - (swap // 2) * FLUX_DOUBLE_GB - (swap - swap // 2) * 2 * FLUX_SINGLE_GB
    total, blocks = SD35[_sd35_size(config)]
    return total - swap * (total / blocks)


def _sd35_size(config: TrainingConfig) -> str:
    path = Path(config.base_model).expanduser()
    large = path.is_file() and path.stat().st_size >= SD35_LARGE_BYTES
    return "large" if large else "medium"


def fit_advice(config: TrainingConfig, gpu_gb: float) -> str:
    """What makes the run fit ``gpu_gb``, in plain words, and a preset set up that way."""
    steps, fitted = [], config
    if not config.fp8_base:
        fitted = dataclasses.replace(fitted, fp8_base=True)
        steps.append("hold the model in fp8 (fp8_base=true)")
    need = estimate_gb(fitted) or 0.0
    if need > gpu_gb:
        top = MAX_SWAP[config.family] if config.family == "flux1" else SD35[_sd35_size(config)][1] - 2
        swap = next((n for n in range((config.blocks_to_swap or 0) + 1, top + 1)
                     if (estimate_gb(dataclasses.replace(fitted, blocks_to_swap=n)) or 0.0) <= gpu_gb), top)
        steps.append(f"swap {swap} blocks to system memory (blocks_to_swap={swap}; slower)")
    advice = f" To fit, {' and '.join(steps)}, or lower the resolution (e.g. 768)." if steps else (
        " To fit, lower the resolution (e.g. 768) or the batch size.")
    fitting = [p for p in load_presets().values()
               if p.config.family == config.family and p.config.vram_gb <= gpu_gb + 1.0]
    if fitting:
        best = max(fitting, key=lambda p: (p.config.max_train_steps or 0, p.config.vram_gb))
        advice += f" The preset {best.slug} is set up for {best.config.vram_gb} GB."
    return advice
