"""Stand-in for Hugging Face accelerate in the fake musubi-tuner's Python."""
__version__ = "1.6.0+fake"
