"""Fake kohya sd-scripts sd3_train_network.py (SD 3 / 3.5 LoRA); see fake_trainer.py.

Its parser is the real script's, rebuilt from the options extract (real_options.py). It trains
networks.lora_sd3 and writes LoRAs with SD 3.5 Medium's metadata (ss_base_model_version
5-medium, modelspec.architecture stable-diffusion-3-5-medium/lora).
"""
import argparse

import train_network  # noqa: F401 - imported at the top, as the real script does
from fake_trainer import main
from real_options import real_parser


def setup_parser() -> argparse.ArgumentParser:
    return real_parser("sd3_train_network.py")


if __name__ == "__main__":
    main(sdxl=False, family="sd35", build=setup_parser)
