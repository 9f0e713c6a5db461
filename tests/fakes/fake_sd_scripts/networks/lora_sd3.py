"""Stands in for sd-scripts' networks/lora_sd3.py (SD 3 / 3.5 LoRA); the fake trainer only imports it."""
