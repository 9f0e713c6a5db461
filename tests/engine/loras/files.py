"""LoRA files written by hand as the format describes them: an 8-byte little-endian header length,
a JSON header (tensors and ``__metadata__``), then the tensors' bytes. No torch, no safetensors."""
from __future__ import annotations

import json
import struct
from pathlib import Path

SDXL = {"modelspec.architecture": "stable-diffusion-xl-v1-base/lora", "modelspec.title": "Mia XL",
        "ss_base_model_version": "sdxl_base_v1-0", "ss_network_dim": "16", "ss_output_name": "mia_xl"}


def write_lora(path: Path, metadata: dict[str, str] | None = None, *, values: int = 8) -> Path:
    """A LoRA of two small float16 tensors (``values`` numbers each)."""
    size = values * 2
    header: dict[str, object] = {
        "lora_unet_a.lora_down.weight": {"dtype": "F16", "shape": [values], "data_offsets": [0, size]},
        "lora_unet_a.lora_up.weight": {"dtype": "F16", "shape": [values], "data_offsets": [size, 2 * size]},
    }
    if metadata is not None:
        header["__metadata__"] = metadata
    raw = json.dumps(header).encode()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(struct.pack("<Q", len(raw)) + raw + bytes(range(2 * size)))
    return path
