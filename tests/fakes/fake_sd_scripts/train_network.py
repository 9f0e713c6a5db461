"""Fake kohya sd-scripts train_network.py (SD 1.x LoRA); see fake_trainer.py.

Like the real script it imports torch and accelerate when it is imported (here the stand-ins in
this folder) and has a module-level ``setup_parser()``, which the studio's probe calls to learn
every option the script accepts.
"""
import argparse

import accelerate  # noqa: F401 - imported at the top, as the real script does
import torch  # noqa: F401
from fake_trainer import main, parser


def setup_parser() -> argparse.ArgumentParser:
    return parser(sdxl=False)


if __name__ == "__main__":
    main(sdxl=False)
