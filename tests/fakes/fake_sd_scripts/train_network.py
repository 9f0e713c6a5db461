"""Fake kohya sd-scripts train_network.py (SD 1.x LoRA); see fake_trainer.py."""
from fake_trainer import main

if __name__ == "__main__":
    main(sdxl=False)
