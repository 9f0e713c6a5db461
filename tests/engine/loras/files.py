"""LoRA files written by hand as the format describes them: an 8-byte little-endian header length,
a JSON header (tensors and ``__metadata__``), then the tensors' bytes. No torch, no safetensors."""
from __future__ import annotations

import json
import math
import struct
from pathlib import Path

SDXL = {"modelspec.architecture": "stable-diffusion-xl-v1-base/lora", "modelspec.title": "Mia XL",
        "ss_base_model_version": "sdxl_base_v1-0", "ss_network_dim": "16", "ss_output_name": "mia_xl"}
# As the trainers write them: sd-scripts' flux_train_network.py, musubi-tuner's Qwen-Image and Wan.
FLUX = {"modelspec.architecture": "flux-1-dev/lora", "ss_base_model_version": "flux1",
        "modelspec.title": "Mia FLUX", "ss_output_name": "mia_flux"}
QWEN = {"modelspec.architecture": "Qwen-Image/lora", "ss_base_model_version": "qwen_image"}
WAN = {"modelspec.architecture": "wan2.1/lora", "ss_base_model_version": "wan"}
TWO = {"lora_unet_a.lora_down.weight": [8], "lora_unet_a.lora_up.weight": [8]}


def write_lora(path: Path, metadata: dict[str, str] | None = None, *, values: int = 8,
               tensors: dict[str, list[int]] | None = None) -> Path:
    """A LoRA of float16 tensors: ``tensors`` (name -> shape), else two of ``values`` numbers."""
    shapes = tensors or {name: [values] for name in TWO}
    header: dict[str, object] = {}
    offset = 0
    for name, shape in shapes.items():
        size = 2 * math.prod(shape)
        header[name] = {"dtype": "F16", "shape": shape, "data_offsets": [offset, offset + size]}
        offset += size
    if metadata is not None:
        header["__metadata__"] = metadata
    raw = json.dumps(header).encode()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(struct.pack("<Q", len(raw)) + raw + bytes(i % 256 for i in range(offset)))
    return path
