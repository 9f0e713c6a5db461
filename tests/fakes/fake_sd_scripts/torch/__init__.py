"""Stand-in for PyTorch, found only inside the fake sd-scripts folder: a script's folder is first
on sys.path when it runs (as for the real sd-scripts), so ``import torch`` there finds this.
It holds only what the studio's probe reads; a test deletes it to see a missing torch."""
__version__ = "2.13.0+fake"  # the real CPU build the probe was compared with was 2.13.0+cpu
