"""LoRA training with kohya sd-scripts: typed config and presets, the command line and
dataset_config.toml, the live log parser, the process runner, results as LoraModel rows,
and the test grid that compares checkpoints through ComfyUI."""
