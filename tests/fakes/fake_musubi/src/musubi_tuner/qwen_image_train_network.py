"""Fake musubi-tuner qwen_image_train_network.py, run as the real one is (see fake_core.py)."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # as `pip install -e .` would

from musubi_tuner.fake_core import main

if __name__ == "__main__":
    main("qwen_image_train_network.py", "train", "qwen_image")
