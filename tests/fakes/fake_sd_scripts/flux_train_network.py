"""Fake kohya sd-scripts flux_train_network.py (FLUX.1 LoRA); see fake_trainer.py.

Its parser is the real script's, rebuilt from the options extract (real_options.py). Like the
real one it needs --clip_l, --t5xxl and --ae beside the model, trains networks.lora_flux, and
writes LoRAs with FLUX.1's metadata (ss_base_model_version flux1, modelspec.architecture
flux-1-dev/lora).
"""
import argparse

import train_network  # noqa: F401 - imported at the top, as the real script does
from fake_trainer import main
from real_options import real_parser


def setup_parser() -> argparse.ArgumentParser:
    return real_parser("flux_train_network.py")


if __name__ == "__main__":
    main(sdxl=False, family="flux1", build=setup_parser)
