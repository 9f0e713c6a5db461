"""Stand-in for Hugging Face accelerate inside the fake sd-scripts folder (see torch/__init__.py):
only its version, which the studio's probe reads; a test deletes it to see a missing module."""
__version__ = "1.6.0+fake"  # the real one the probe was compared with was 1.6.0
