"""Stands in for sd-scripts' networks/lora_flux.py (FLUX.1 LoRA); the fake trainer only imports it."""
