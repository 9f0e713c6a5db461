"""Fake kohya sd-scripts sdxl_train_network.py (SDXL LoRA); see fake_trainer.py."""
from fake_trainer import main

if __name__ == "__main__":
    main(sdxl=True)
