"""Fake kohya sd-scripts sdxl_train_network.py (SDXL LoRA); see fake_trainer.py.

The real script imports train_network (and so torch and accelerate) and builds its parser on
train_network's ``setup_parser()`` plus the SDXL options; so does this one.
"""
import argparse

import train_network  # noqa: F401 - imported at the top, as the real script does
from fake_trainer import main, parser


def setup_parser() -> argparse.ArgumentParser:
    return parser(sdxl=True)


if __name__ == "__main__":
    main(sdxl=True)
