"""Stands in for sd-scripts' networks/lora.py; the fake trainer only imports it."""
