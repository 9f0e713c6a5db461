"""Stand-in for PyTorch in the fake musubi-tuner's Python: importable, with a version."""
__version__ = "2.5.1+fake"
