"""Fake musubi-tuner cache_latents (the module every real caching script imports first; the
studio's import check imports it to catch a venv without musubi-tuner's requirements)."""
